#pragma once
// The JSON-RPC listener: a Unix socket (uv_pipe) on the kernel's loop, newline framing, one
// Dispatcher per line, and the event stream to subscribed connections. Loop thread only.
//
// Bounds: at most max_connections clients; a line over max_line_bytes is answered with an
// error and dropped; a connection runs at most max_in_flight lines at once and stops reading
// while that many run or while its unsent output exceeds max_pending_bytes (so a client that
// does not read its answers stops being read); a subscriber whose unsent output would exceed
// max_pending_bytes is disconnected. Only the socket owner's uid may connect (SO_PEERCRED).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <unordered_set>

#include <spdlog/logger.h>
#include <uv.h>

#include "dispatcher.hpp"
#include "socket_path.hpp"

namespace veil::rpc {

/// Listener settings.
struct ServerOptions {
    std::filesystem::path socket_path;
    std::size_t max_connections = 16;
    std::size_t max_line_bytes = 1u << 20;
    std::size_t max_pending_bytes = 8u << 20;  ///< unsent output per connection
    std::size_t max_in_flight = 32;            ///< lines being answered per connection
    DispatchOptions dispatch;
};

struct Connection;

/// Counters for tests and diagnostics.
struct ServerStats {
    std::size_t connections = 0;        ///< open now
    std::uint64_t accepted = 0;         ///< ever accepted and served
    std::uint64_t refused = 0;          ///< over the connection limit or another uid
    std::uint64_t dropped_slow = 0;     ///< subscribers disconnected for not reading
    std::size_t peak_pending_bytes = 0; ///< most unsent output one connection ever held
};

/// The listener and its connections.
class RpcServer final {
public:
    RpcServer(uv_loop_t* loop, sdk::Bus& bus, ServerOptions options, std::shared_ptr<spdlog::logger> log);
    /// Calls stop().
    ~RpcServer();
    RpcServer(const RpcServer&) = delete;
    RpcServer& operator=(const RpcServer&) = delete;

    /// Checks the path, binds, makes the file 0600, listens. Throws std::runtime_error.
    void start();
    /// Closes the listener and every connection and removes the socket file. Idempotent.
    void stop();
    /// Sends a notification line to every subscribed connection.
    void broadcast(const json& note);
    /// Counters.
    [[nodiscard]] ServerStats stats() const;
    [[nodiscard]] const ServerOptions& options() const { return options_; }

private:
    friend struct Connection;
    static void on_connection(uv_stream_t* listener, int status);
    void accept_one();
    void forget(Connection* c);

    uv_loop_t* loop_;
    sdk::Bus& bus_;
    ServerOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    uv_pipe_t* listener_ = nullptr;  // freed in its close callback
    SocketFile socket_file_;
    std::unordered_set<Connection*> connections_;
    ServerStats stats_;
};

}  // namespace veil::rpc
