// frontends/rpc: JSON-RPC 2.0 over a Unix socket for bots and scripts. Descriptor and config
// table only; the logic is in rpc_frontend.cpp and server.cpp.
#include "rpc_frontend.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::rpc {

namespace {

class RpcPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override { frontend_.start(ctx); }
    void stop() override { frontend_.stop(); }

private:
    RpcFrontend frontend_;
};

constexpr std::string_view kRequires[] = {"messenger"};

const sdk::PluginInfo kInfo{
    .name = "rpc",
    .version = "0.1.0",
    .kind = sdk::PluginKind::frontend,
    .description = "JSON-RPC 2.0 over a Unix socket (HOME/rpc.sock, 0600) for bots and scripts",
    .provides = {},
    .requires_ = kRequires,
    .config = config_keys(),
    .commands = {},
};

}  // namespace
}  // namespace veil::rpc

VEIL_PLUGIN(rpc, veil::rpc::kInfo, veil::rpc::RpcPlugin)
