#pragma once
// Internal: TOML helpers shared by config.cpp and config_file.cpp (toml++ stays out of headers).
#include "veil/sdk/config.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk::config_detail {
/// The typed default of a spec (see ConfigKeySpec for the syntax).
Result<ConfigValue> parse_default(const ConfigKeySpec& spec);
}  // namespace veil::sdk::config_detail
