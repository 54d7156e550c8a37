#include "args.hpp"

#include <string_view>

namespace veil::kernel {

const char* usage_text() {
    return "usage: veil [--config FILE] [--set TABLE.KEY=VALUE]... [--home DIR] [-v|-vv]\n"
           "            [--log-level LEVEL] [--passphrase-file FILE] [COMMAND [ARGS...]]\n"
           "Without COMMAND, runs the plugins enabled by FILE until SIGINT/SIGTERM.\n"
           "--home, --config, --set, --log-level and --passphrase-file may also follow the\n"
           "command word (veil daemon --home DIR), up to a '--' (after 'config', --set is\n"
           "the command's own: config check FILE --set T.K=V).\n"
           "'veil help' lists the commands.\n";
}

namespace {
// A global option that takes a value, spelled "--opt V" or "--opt=V" at argv[i]: its value
// (advancing i past it), or nullopt when argv[i] is not `opt`. `error` is set when V is missing.
std::optional<std::string> option_value(int argc, char** argv, int& i, std::string_view opt, std::string& error) {
    std::string_view s = argv[i];
    if (s.size() > opt.size() && s.starts_with(opt) && s[opt.size()] == '=') return std::string(s.substr(opt.size() + 1));
    if (s != opt) return std::nullopt;
    if (i + 1 >= argc) {
        error = std::string(opt) + " needs a value";
        return std::nullopt;
    }
    return std::string(argv[++i]);
}

// Takes the value of a global option that may stand anywhere before a `--` into `a`. The
// passphrase file goes to the command's own arguments, where its readers (the storage plugin,
// `init`, `daemon`, `passphrase`) look for it. False when argv[i] is none of them.
// `with_set`: false after `config`, whose `check FILE --set ...` overrides the file it checks.
bool take_global(int argc, char** argv, int& i, Args& a, std::string& error, bool with_set = true) {
    if (auto v = option_value(argc, argv, i, "--home", error)) {
        a.home = *v;
    } else if (auto c = option_value(argc, argv, i, "--config", error)) {
        a.config_file = *c;
    } else if (auto o = with_set ? option_value(argc, argv, i, "--set", error) : std::nullopt) {
        a.overrides.push_back(*o);
    } else if (auto l = option_value(argc, argv, i, "--log-level", error)) {
        a.log_level = *l;
    } else if (auto f = option_value(argc, argv, i, "--passphrase-file", error)) {
        a.passphrase_file = *f;
    } else {
        return false;
    }
    return true;
}
}  // namespace

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
    Args a;
    error.clear();
    int i = 1;
    for (; i < argc; ++i) {
        std::string_view s = argv[i];
        if (s == "--") {
            ++i;
            break;
        }
        if (s.empty() || s[0] != '-') break;
        if (take_global(argc, argv, i, a, error)) continue;
        if (!error.empty()) return std::nullopt;
        if (s == "-c") {  // short for --config, before the command word only
            if (i + 1 >= argc) {
                error = "-c needs a value";
                return std::nullopt;
            }
            a.config_file = argv[++i];
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
    // The global options are also taken after the command word (`veil daemon --home H`), up to
    // a `--`, so people may write them either way round.
    bool options_end = false;
    for (; i < argc; ++i) {
        std::string_view s = argv[i];
        if (s == "--") options_end = true;
        if (!options_end && !a.command.empty()) {
            if (take_global(argc, argv, i, a, error, a.command.front() != "config")) continue;
            if (!error.empty()) return std::nullopt;
        }
        a.command.emplace_back(s);
    }
    // Its readers find the passphrase file right after the command word.
    if (a.passphrase_file && !a.command.empty()) {
        a.command.insert(a.command.begin() + 1, {"--passphrase-file", *a.passphrase_file});
    }
    return a;
}

}  // namespace veil::kernel
