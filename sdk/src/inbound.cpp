#include "veil/sdk/inbound.hpp"

#include "veil/sdk/transport.hpp"

namespace veil::sdk::transport {

void answer_inbound(Bus& bus, const wire::Bytes& frame_body, net::Reply reply, std::uint32_t timeout_ms,
                    std::size_t max_body_bytes) {
    auto in = decode_service_request(frame_body, max_body_bytes);
    if (!in) {
        reply.fail(in.error().message);
        return;
    }
    answer_inbound(bus, std::move(in).value(), std::move(reply), timeout_ms);
}

void answer_inbound(Bus& bus, Inbound request, net::Reply reply, std::uint32_t timeout_ms) {
    std::string service = request.service;
    request.link = reply.connection_id();
    request.source = reply.source();
    bool queued = bus.request<Inbound>(
        std::move(request), timeout_ms,
        [reply](Result<Response> r) {
            if (r.ok()) {
                reply.reply(encode_service_response(r.value()));
            } else if (r.error().code == ErrorCode::no_handler) {
                reply.reply(encode_service_response({Status::unknown_service, {}}));
            } else {
                auto m = r.error().describe();
                reply.reply(encode_service_response({Status::error, wire::Bytes(m.begin(), m.end())}));
            }
        },
        service);
    if (!queued) reply.fail("busy");
}

}  // namespace veil::sdk::transport
