#include "args.hpp"

#include <string_view>

namespace veil::kernel {

const char* usage_text() {
    return "usage: veil [--config FILE] [--set TABLE.KEY=VALUE]... [--home DIR] [-v|-vv]\n"
           "            [--log-level LEVEL] [COMMAND [ARGS...]]\n"
           "Without COMMAND, runs the plugins enabled by FILE until SIGINT/SIGTERM.\n"
           "--home may also follow the command word (veil daemon --home DIR).\n"
           "'veil help' lists the commands.\n";
}

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
    Args a;
    int i = 1;
    auto value = [&](std::string_view opt) -> std::optional<std::string> {
        if (i + 1 >= argc) {
            error = std::string(opt) + " needs a value";
            return std::nullopt;
        }
        return std::string(argv[++i]);
    };
    for (; i < argc; ++i) {
        std::string_view s = argv[i];
        if (s == "--") {
            ++i;
            break;
        }
        if (s.empty() || s[0] != '-') break;
        std::optional<std::string> v;
        if (s == "--config" || s == "-c") {
            if (!(v = value(s))) return std::nullopt;
            a.config_file = *v;
        } else if (s == "--set") {
            if (!(v = value(s))) return std::nullopt;
            a.overrides.push_back(*v);
        } else if (s == "--home") {
            if (!(v = value(s))) return std::nullopt;
            a.home = *v;
        } else if (s == "--log-level") {
            if (!(v = value(s))) return std::nullopt;
            a.log_level = *v;
        } else if (s == "-v" || s == "--verbose") {
            a.verbosity += 1;
        } else if (s == "-vv") {
            a.verbosity += 2;
        } else if (s == "-h" || s == "--help") {
            a.command = {"help"};
            return a;
        } else if (s == "--version") {
            a.command = {"version"};
            return a;
        } else {
            error = "unknown option '" + std::string(s) + "'";
            return std::nullopt;
        }
    }
    // `--home DIR` is also taken after the command word (`veil daemon --home H`), up to a `--`,
    // so the kernel loads HOME/veil.toml whichever way round people write it.
    bool options_end = false;
    for (; i < argc; ++i) {
        std::string_view s = argv[i];
        if (s == "--") options_end = true;
        if (!options_end && s == "--home" && !a.command.empty()) {
            if (i + 1 >= argc) {
                error = "--home needs a value";
                return std::nullopt;
            }
            a.home = argv[++i];
            continue;
        }
        if (!options_end && s.starts_with("--home=") && !a.command.empty()) {
            a.home = std::string(s.substr(7));
            continue;
        }
        a.command.emplace_back(s);
    }
    return a;
}

}  // namespace veil::kernel
