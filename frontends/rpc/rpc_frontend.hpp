#pragma once
// The rpc frontend's life on the kernel: decides whether to serve (a resident run only), reads
// its config table, runs the RpcServer and feeds it the messenger's events.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server.hpp"
#include "veil/sdk/config.hpp"
#include "veil/sdk/context.hpp"

namespace veil::rpc {

/// The keys of the [rpc] config table.
std::span<const sdk::ConfigKeySpec> config_keys();

/// True for a resident run: `veil daemon` or the foreground kernel with no command.
/// One-shot commands (`veil send`, `veil receive`) never open the socket.
bool should_serve(const std::optional<std::vector<std::string>>& invocation);

/// Server options from a validated [rpc] table; "" for `socket` means HOME/rpc.sock.
/// Throws std::invalid_argument naming the key on an out-of-range value.
ServerOptions options_from(const sdk::Config& config, const std::filesystem::path& home);

/// The plugin's logic, testable with a Context made by a test.
class RpcFrontend final {
public:
    /// Serves when should_serve(); otherwise stays idle. Throws on config or socket errors.
    void start(sdk::Context& ctx);
    /// Closes the socket and every connection; removes the socket file.
    void stop();
    /// The running server, or nullptr when idle.
    [[nodiscard]] const RpcServer* server() const { return server_.get(); }

private:
    std::unique_ptr<RpcServer> server_;
};

}  // namespace veil::rpc
