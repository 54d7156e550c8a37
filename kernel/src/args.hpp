#pragma once
// Command-line parsing of the kernel's global options (before or after the command word).
#include <optional>
#include <string>
#include <vector>

namespace veil::kernel {

/// `veil [--config FILE] [--set t.k=v]... [--home DIR] [-v|-vv] [--log-level L] [CMD ARGS...]`
struct Args {
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;  ///< --set values, in order
    std::optional<std::string> home;
    int verbosity = 0;                   ///< count of -v
    std::optional<std::string> log_level;
    std::optional<std::string> passphrase_file;  ///< also handed to the command, after its word
    std::vector<std::string> command;    ///< command word first; empty = run in the foreground
};

/// Parses argv; on error returns nullopt and fills `error`.
std::optional<Args> parse_args(int argc, char** argv, std::string& error);

/// The usage text of the global options.
const char* usage_text();

}  // namespace veil::kernel
