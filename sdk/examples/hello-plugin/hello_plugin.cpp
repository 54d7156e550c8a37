// The smallest useful plugin: one config key, one command, one bus subscription.
#include "veil/sdk/plugin.hpp"

namespace hello {

class HelloPlugin final : public veil::sdk::Plugin {
public:
    void start(veil::sdk::Context& ctx) override {
        greeting_ = ctx.config().get_string("greeting");
        ctx.on<veil::sdk::KernelStarted>([&ctx](const veil::sdk::KernelStarted&) {
            ctx.log().debug("the kernel is up");
        });
        ctx.add_command({"hello", "greet someone from an out-of-tree plugin", "hello [NAME]",
                         [this](veil::sdk::CommandCall call) {
                             std::string who = call.args().empty() ? "world" : call.args()[0];
                             call.out(greeting_ + ", " + who + ", from an out-of-tree plugin\n");
                             call.finish(veil::sdk::exit_code::ok);
                         }});
    }
    void stop() override {}

private:
    std::string greeting_;
};

constexpr std::string_view kCommands[] = {"hello"};
constexpr veil::sdk::ConfigKeySpec kKeys[] = {
    {"greeting", veil::sdk::ConfigType::string, "hello", "the word to greet with"},
};
constexpr veil::sdk::PluginInfo kInfo{
    .name = "hello",
    .version = "1.0.0",
    .kind = veil::sdk::PluginKind::other,
    .description = "example plugin built out of tree against the installed SDK",
    .provides = {},
    .requires_ = {},
    .config = kKeys,
    .commands = kCommands,
};

}  // namespace hello

VEIL_PLUGIN(hello, hello::kInfo, hello::HelloPlugin)
