#pragma once
// The direct transport: carries transport::Request straight to the destination's address in
// one framed TCP exchange (no onion, NOT anonymous), and answers inbound service requests by
// asking the bus (transport::Inbound routed by service name). Loop thread only.
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::direct {

struct Options {
    std::size_t max_frame_bytes = 1 << 20;
    std::uint64_t idle_timeout_ms = 60'000;
    std::uint64_t connect_timeout_ms = 5'000;
    std::uint32_t inbound_timeout_ms = 30'000;  ///< how long a local service may take
    std::size_t max_peers = 256;                ///< open client connections kept
};

class DirectTransport final {
public:
    DirectTransport(uv_loop_t* loop, sdk::Bus& bus, Options options, std::shared_ptr<spdlog::logger> log);
    ~DirectTransport();
    DirectTransport(const DirectTransport&) = delete;
    DirectTransport& operator=(const DirectTransport&) = delete;

    /// Accepts inbound requests at `at`; returns the bound endpoint.
    sdk::Result<sdk::net::Endpoint> listen(const sdk::net::Endpoint& at);
    /// Carries one request; `done` runs once on the loop thread.
    void send(const sdk::transport::Request& request, std::function<void(sdk::Result<sdk::transport::Response>)> done);
    /// Closes the listener and every connection (pending callbacks are dropped).
    void close();

private:
    void on_inbound(sdk::net::Bytes body, sdk::net::Reply reply);

    uv_loop_t* loop_;
    sdk::Bus& bus_;
    Options options_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<sdk::net::Server> server_;
    sdk::net::ClientPool clients_;
};

}  // namespace veil::direct
