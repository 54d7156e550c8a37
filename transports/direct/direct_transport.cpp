#include "direct_transport.hpp"

namespace veil::direct {

using namespace sdk;
namespace tr = sdk::transport;

DirectTransport::DirectTransport(uv_loop_t* loop, Bus& bus, Options options, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), bus_(bus), options_(options), log_(std::move(log)) {}

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
    auto in = tr::decode_service_request(body, options_.max_frame_bytes);
    if (!in) {
        reply.fail(in.error().message);
        return;
    }
    std::string service = in.value().service;
    bool queued = bus_.request<tr::Inbound>(
        std::move(in).value(), options_.inbound_timeout_ms,
        [reply, service](Result<tr::Response> r) {
            if (r.ok()) {
                reply.reply(tr::encode_service_response(r.value()));
            } else if (r.error().code == ErrorCode::no_handler) {
                reply.reply(tr::encode_service_response({tr::Status::unknown_service, {}}));
            } else {
                auto m = r.error().describe();
                reply.reply(tr::encode_service_response({tr::Status::error, net::Bytes(m.begin(), m.end())}));
            }
        },
        service);
    if (!queued) reply.fail("busy");
}

net::Client& DirectTransport::client_for(const net::Endpoint& ep) {
    auto key = ep.to_string();
    auto it = clients_.find(key);
    if (it != clients_.end()) return *it->second;
    if (clients_.size() >= options_.max_peers) {
        // Bounded pool: evict one peer; its pending requests fail with `closed`.
        auto victim = std::move(clients_.begin()->second);
        clients_.erase(clients_.begin());
        victim->close();
    }
    net::ClientOptions co;
    co.max_frame_bytes = options_.max_frame_bytes;
    co.connect_timeout_ms = options_.connect_timeout_ms;
    co.idle_timeout_ms = options_.idle_timeout_ms;
    return *clients_.emplace(key, std::make_unique<net::Client>(loop_, ep, co)).first->second;
}

void DirectTransport::send(const tr::Request& request, std::function<void(Result<tr::Response>)> done) {
    auto ep = net::parse_endpoint(request.to.address);
    if (!ep) {
        done(ep.error());
        return;
    }
    if (request.service.empty() || request.service.size() > tr::kMaxServiceName) {
        done(Error{ErrorCode::bad_input, "service name must be 1 to 64 bytes"});
        return;
    }
    auto max = options_.max_frame_bytes;
    client_for(ep.value()).request(tr::encode_service_request(request.service, request.body), request.timeout_ms,
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
