// frontends/cli: dispatches the command the kernel was given, once every plugin has started,
// then asks the kernel to stop with the command's exit code. Registration and wiring only.
#include <cstdio>

#include "dispatch.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::cli {

namespace {

void write_all(std::FILE* f, std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fflush(f);
}

class CliPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        ctx.on<sdk::KernelStarted>([&ctx](const sdk::KernelStarted&) {
            const auto& argv = ctx.commands().invocation();
            if (!argv || argv->empty()) return;  // running in the foreground: nothing to dispatch
            sdk::CommandCall::Sinks sinks;
            sinks.out = [](std::string_view t) { write_all(stdout, t); };
            sinks.err = [](std::string_view t) { write_all(stderr, t); };
            sinks.finished = [&ctx](int code) { ctx.request_stop(code); };
            dispatch(ctx.commands(), *argv, std::move(sinks));
        });
    }
    void stop() override {}
};

constexpr sdk::PluginInfo kInfo{
    .name = "cli",
    .version = "0.1.0",
    .kind = sdk::PluginKind::frontend,
    .description = "command-line frontend: runs 'veil COMMAND ...' and exits with its code",
    .provides = {},
    .requires_ = {},
    .config = {},
    .commands = {},
};

}  // namespace
}  // namespace veil::cli

VEIL_PLUGIN(cli, veil::cli::kInfo, veil::cli::CliPlugin)
