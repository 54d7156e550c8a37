// plugins/setup: `veil init`, which runs before HOME has a config (so with the built-in one:
// no storage, no network) and writes the client config. It is its own plugin so that the
// messenger can require storage, network and a transport: the kernel starts the messenger only
// with them. Registration and wiring only; the work is in init_home.cpp.
#include "init_home.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::setup {
namespace {

class SetupPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        ctx.add_command({"init", "make a new identity (or, with --restore, a new device of yours) in HOME",
                         "init [--home HOME] --network FILE [--restore] [--passphrase-file F]",
                         [&ctx](sdk::CommandCall call) { init_home(ctx, std::move(call)); }});
    }
    void stop() override {}
};

constexpr std::string_view kCommands[] = {"init"};
constexpr sdk::PluginInfo kInfo{
    .name = "setup",
    .version = "0.1.0",
    .kind = sdk::PluginKind::role,
    .description = "veil init: writes a client's HOME/veil.toml from a network file, then makes its identity",
    .provides = {},
    .requires_ = {},
    .config = {},
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::setup

VEIL_PLUGIN(setup, veil::setup::kInfo, veil::setup::SetupPlugin)
