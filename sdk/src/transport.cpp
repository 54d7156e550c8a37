#include "veil/sdk/transport.hpp"

namespace veil::sdk::transport {

Bytes encode_service_request(std::string_view service, const Bytes& body) {
    wire::Writer w;
    w.str(service).var(body);
    return w.take();
}

ServicePeek peek_service(wire::ByteView head) {
    ServicePeek out;
    if (head.size() < 4) return out;
    std::size_t n = (std::size_t(head[0]) << 24) | (std::size_t(head[1]) << 16) | (std::size_t(head[2]) << 8) | head[3];
    if (n == 0 || n > kMaxServiceName) {
        out.state = ServicePeek::State::bad;
        return out;
    }
    if (head.size() < 4 + n) return out;
    out.state = ServicePeek::State::named;
    out.service = std::string_view(reinterpret_cast<const char*>(head.data()) + 4, n);
    out.header_bytes = 4 + n + 4;
    return out;
}

Result<Inbound> decode_service_request(wire::ByteView bytes, std::size_t max_body) {
    try {
        wire::Reader r(bytes);
        Inbound in;
        in.service = r.str(kMaxServiceName);
        auto body = r.var(max_body);
        in.body.assign(body.begin(), body.end());
        r.expect_done();
        if (in.service.empty()) return Error{ErrorCode::bad_input, "service request: empty service name"};
        return in;
    } catch (const wire::DecodeError& e) {
        return Error{ErrorCode::bad_input, std::string("service request: ") + e.what()};
    }
}

Bytes encode_service_response(const Response& response) {
    wire::Writer w;
    w.u8(static_cast<std::uint8_t>(response.status)).var(response.body);
    return w.take();
}

Result<Response> decode_service_response(wire::ByteView bytes, std::size_t max_body) {
    try {
        wire::Reader r(bytes);
        Response out;
        auto status = r.u8();
        if (status < 1 || status > 3) return Error{ErrorCode::bad_input, "service response: unknown status"};
        out.status = static_cast<Status>(status);
        auto body = r.var(max_body);
        out.body.assign(body.begin(), body.end());
        r.expect_done();
        return out;
    } catch (const wire::DecodeError& e) {
        return Error{ErrorCode::bad_input, std::string("service response: ") + e.what()};
    }
}

}  // namespace veil::sdk::transport
