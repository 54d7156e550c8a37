#include "dispatch.hpp"

#include <exception>

namespace veil::cli {

namespace {
// `--help` or `-h` before a `--` asks for the command's usage (`veil send ID -- -h` sends "-h").
bool asks_for_help(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--") return false;
        if (a == "--help" || a == "-h") return true;
    }
    return false;
}
}  // namespace

void dispatch(sdk::CommandRegistry& registry, const std::vector<std::string>& argv, sdk::CommandCall::Sinks sinks) {
    const std::string& name = argv.front();
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    const sdk::Command* cmd = registry.find(name);
    sdk::CommandCall call(std::move(args), std::move(sinks));
    if (!cmd) {
        call.fail("veil: unknown command '" + name + "' (run 'veil help')", sdk::exit_code::usage);
        return;
    }
    if (asks_for_help(call.args())) {
        std::string text = "usage: veil " + (cmd->usage.empty() ? cmd->name : cmd->usage) + "\n  " + cmd->summary + "\n";
        if (!cmd->help.empty()) text += cmd->help + (cmd->help.back() == '\n' ? "" : "\n");
        call.out(text);
        call.finish(sdk::exit_code::ok);
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
