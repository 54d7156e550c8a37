#pragma once
// The local chat page's server: libwebsockets on the kernel's libuv loop (a foreign loop),
// serving the built-in assets, the login exchange, uploads, media and QR endpoints, and the
// WebSocket that carries messenger commands and events (api.hpp). Every request passes the
// Gate (gate.hpp). Loop thread only.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "gate.hpp"
#include "veil/sdk/context.hpp"

namespace veil::web {

/// What the server needs besides the Context.
struct ServerOptions {
    ListenAddress listen;                      ///< loopback address (port 0 = a free port)
    std::uint64_t max_upload_bytes = 0;        ///< largest file accepted by /api/upload
    std::filesystem::path data_dir;            ///< HOME/web (0700): url file, uploads/
    std::uint32_t request_timeout_ms = 30000;  ///< bus requests made for the page
};

struct Core;

/// One running server. Starts listening in the constructor (throws std::runtime_error when
/// it cannot); stop() closes it; the last lws handles close as the loop runs on.
class WebServer final {
public:
    WebServer(sdk::Context& ctx, ServerOptions options);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    /// The port actually bound.
    [[nodiscard]] std::uint16_t port() const;
    /// "http://127.0.0.1:PORT/login?token=..." (secret: give it only to the user).
    [[nodiscard]] std::string login_url() const;
    /// Closes the listener and every connection. Idempotent.
    void stop();

private:
    std::shared_ptr<Core> core_;
};

}  // namespace veil::web
