// The rpc frontend on the kernel (see rpc_frontend.hpp).
#include "rpc_frontend.hpp"

#include <array>
#include <stdexcept>

#include "veil/json/contract_json.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::rpc {

namespace msg = sdk::messenger;
using contract_json::to_json;

namespace {

constexpr std::array<sdk::ConfigKeySpec, 6> kKeys{{
    {"socket", sdk::ConfigType::string, "", "Unix socket path; empty = HOME/rpc.sock (created 0600)"},
    {"max_connections", sdk::ConfigType::integer, "16", "clients connected at once"},
    {"max_line_bytes", sdk::ConfigType::integer, "1048576", "longest request line (bytes)"},
    {"max_pending_bytes", sdk::ConfigType::integer, "8388608",
     "unsent output per connection before it stops being read (or, for events, is dropped)"},
    {"max_batch", sdk::ConfigType::integer, "100", "requests in one batch array"},
    {"request_timeout_ms", sdk::ConfigType::integer, "120000", "deadline of one request to the messenger"},
}};

std::size_t positive(const sdk::Config& c, const char* key, std::int64_t max) {
    const std::int64_t v = c.get_int(key);
    if (v < 1 || v > max) {
        throw std::invalid_argument("rpc." + std::string(key) + " must be between 1 and " + std::to_string(max) +
                                    " (got " + std::to_string(v) + ")");
    }
    return static_cast<std::size_t>(v);
}

}  // namespace

std::span<const sdk::ConfigKeySpec> config_keys() { return kKeys; }

bool should_serve(const std::optional<std::vector<std::string>>& invocation) {
    return !invocation || invocation->empty() || invocation->front() == "daemon";
}

ServerOptions options_from(const sdk::Config& config, const std::filesystem::path& home) {
    ServerOptions o;
    const std::string& socket = config.get_string("socket");
    o.socket_path = socket.empty() ? home / "rpc.sock" : std::filesystem::path(socket);
    o.max_connections = positive(config, "max_connections", 4096);
    o.max_line_bytes = positive(config, "max_line_bytes", 64ll << 20);
    o.max_pending_bytes = positive(config, "max_pending_bytes", 1ll << 30);
    o.dispatch.max_batch = positive(config, "max_batch", 10000);
    o.dispatch.methods.request_timeout_ms =
        static_cast<std::uint32_t>(positive(config, "request_timeout_ms", 24ll * 3600 * 1000));
    return o;
}

void RpcFrontend::start(sdk::Context& ctx) {
    if (!should_serve(ctx.commands().invocation())) return;  // one-shot command: stay idle
    auto options = options_from(ctx.config(), ctx.home_dir());
    server_ = std::make_unique<RpcServer>(ctx.loop(), ctx.bus(), std::move(options), ctx.logger());
    server_->start();
    // Debug, not info: the daemon's own "online" line stays the first thing it prints.
    ctx.log().debug("JSON-RPC listening on {}", server_->options().socket_path.string());
    // Events reach subscribed connections; texts are never logged.
    ctx.on<msg::MessageAdded>([this](const msg::MessageAdded& e) {
        if (server_) server_->broadcast(notification("message", {{"event", "added"}, {"message", to_json(e.message)}}));
    });
    ctx.on<msg::MessageUpdated>([this](const msg::MessageUpdated& e) {
        if (server_) server_->broadcast(notification("message", {{"event", "updated"}, {"message", to_json(e.message)}}));
    });
    ctx.on<msg::ConversationUpdated>([this](const msg::ConversationUpdated& e) {
        if (server_) server_->broadcast(notification("conversation", to_json(e.conversation)));
    });
    ctx.on<sdk::attachment::TransferProgress>([this](const sdk::attachment::TransferProgress& e) {
        if (server_) server_->broadcast(notification("transfer", to_json(e)));
    });
}

void RpcFrontend::stop() {
    if (server_) server_->stop();
    server_.reset();
}

}  // namespace veil::rpc
