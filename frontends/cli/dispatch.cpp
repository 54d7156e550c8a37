#include "dispatch.hpp"

#include <exception>

namespace veil::cli {

void dispatch(sdk::CommandRegistry& registry, const std::vector<std::string>& argv, sdk::CommandCall::Sinks sinks) {
    const std::string& name = argv.front();
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    const sdk::Command* cmd = registry.find(name);
    sdk::CommandCall call(std::move(args), std::move(sinks));
    if (!cmd) {
        call.fail("veil: unknown command '" + name + "' (run 'veil help')", sdk::exit_code::usage);
        return;
    }
    auto run = cmd->run;  // copy: a command may unregister itself
    try {
        run(call);
    } catch (const std::exception& e) {
        call.fail("veil " + name + ": error: " + e.what(), sdk::exit_code::failure);
    } catch (...) {
        call.fail("veil " + name + ": error: unknown exception", sdk::exit_code::failure);
    }
}

}  // namespace veil::cli
