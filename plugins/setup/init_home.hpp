#pragma once
/// `veil init`: runs before HOME has a config (with the built-in one: no storage, no network).
/// Checks the network file, writes HOME/veil.toml (the client config), then runs
/// `veil --home HOME create-account ...` as a child process, which starts with that config and
/// makes the identity and device (the messenger's command). A child that fails before saving
/// anything (exit 1) leaves no veil.toml.

#include <filesystem>
#include <string>

#include "veil/sdk/context.hpp"

namespace veil::setup {

/// The client config for a network file's [network] table. Throws std::runtime_error with a
/// user-facing sentence when the file is missing, unreadable or has no [network] table.
[[nodiscard]] std::string client_config(const std::filesystem::path& network_file, const std::filesystem::path& home);

/// Handles `veil init`.
void init_home(sdk::Context& ctx, sdk::CommandCall call);

}  // namespace veil::setup
