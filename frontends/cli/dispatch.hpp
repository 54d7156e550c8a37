#pragma once
// Runs one command line against the command registry. Testable without the kernel.
#include <functional>
#include <string>
#include <vector>

#include "veil/sdk/commands.hpp"

namespace veil::cli {

/// Finds argv[0] in `registry` and runs it with `sinks`. An unknown command or a handler
/// that throws finishes the call with a clear message (exit 2 / 1). `--help` or `-h` (before
/// any `--`) prints the command's usage, summary and help text and exits 0.
void dispatch(sdk::CommandRegistry& registry, const std::vector<std::string>& argv,
              sdk::CommandCall::Sinks sinks);

}  // namespace veil::cli
