#include "direct_transport.hpp"

#include "veil/sdk/inbound.hpp"

namespace veil::direct {

using namespace sdk;
namespace tr = sdk::transport;

DirectTransport::DirectTransport(uv_loop_t* loop, Bus& bus, Options options, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), bus_(bus), options_(options), log_(std::move(log)), clients_(loop, [&] {
          net::ClientOptions co;
          co.max_frame_bytes = options.max_frame_bytes;
          co.connect_timeout_ms = options.connect_timeout_ms;
          co.idle_timeout_ms = options.idle_timeout_ms;
          return co;
      }(), options.max_peers) {}

DirectTransport::~DirectTransport() { close(); }

Result<net::Endpoint> DirectTransport::listen(const net::Endpoint& at) {
    net::ServerOptions so;
    so.max_frame_bytes = options_.max_frame_bytes;
    so.idle_timeout_ms = options_.idle_timeout_ms;
    server_ = std::make_unique<net::Server>(loop_, so, [this](net::Bytes body, net::Reply reply) {
        on_inbound(std::move(body), std::move(reply));
    });
    return server_->listen(at);
}

void DirectTransport::on_inbound(net::Bytes body, net::Reply reply) {
    tr::answer_inbound(bus_, body, std::move(reply), options_.inbound_timeout_ms, options_.max_frame_bytes);
}

void DirectTransport::send(const tr::Request& request, std::function<void(Result<tr::Response>)> done) {
    auto client = clients_.get(request.to.address);
    if (!client) {
        done(client.error());
        return;
    }
    if (request.service.empty() || request.service.size() > tr::kMaxServiceName) {
        done(Error{ErrorCode::bad_input, "service name must be 1 to 64 bytes"});
        return;
    }
    auto max = options_.max_frame_bytes;
    client.value()->request(tr::encode_service_request(request.service, request.body), request.timeout_ms,
                            [done = std::move(done), max](Result<net::Bytes> r) {
                                if (!r) {
                                    done(r.error());
                                    return;
                                }
                                done(tr::decode_service_response(r.value(), max));
                            });
}

void DirectTransport::close() {
    clients_.clear();
    if (server_) server_->close();
    server_.reset();
}

}  // namespace veil::direct
