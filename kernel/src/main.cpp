// veil: one executable; what it is depends on the plugins its config enables.
#include <cstdio>
#include <filesystem>

#include "args.hpp"
#include "kernel.hpp"

int main(int argc, char** argv) {
    std::string error;
    auto args = veil::kernel::parse_args(argc, argv, error);
    if (!args) {
        std::fprintf(stderr, "veil: %s\n%s", error.c_str(), veil::kernel::usage_text());
        return 2;
    }
    // Nothing to run: no command, no config, no override of the built-in config.
    if (args->command.empty() && !args->config_file && args->overrides.empty()) {
        std::fputs(veil::kernel::usage_text(), stdout);
        std::fputs("Try 'veil help' or 'veil --config configs/node.toml'.\n", stdout);
        return 2;
    }
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto exe_dir = ec ? std::filesystem::current_path() : exe.parent_path();
    try {
        veil::kernel::Kernel kernel(std::move(*args), exe_dir);
        return kernel.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "veil: fatal: %s\n", e.what());
        return 1;
    }
}
