#pragma once
/// `veil init`, first half: runs with the built-in config (no storage, no network yet). Checks
/// the network file, writes HOME/veil.toml (the client config), then runs
/// `veil --home HOME init --create-device ...` as a child process, which starts with that config
/// and makes the identity and device (messenger_commands.cpp). A child that fails before saving anything leaves no veil.toml.

#include <filesystem>
#include <string>
#include <vector>

#include "veil/sdk/context.hpp"

namespace veil::messenger {

/// Exit code of `init --create-device` when the database already holds an identity (the
/// config written for it is kept: it gives access to that identity again).
inline constexpr int kExitHomeInUse = 3;

/// The client config for a network file's [network] table. Throws std::runtime_error with a
/// user-facing sentence when the file is missing, unreadable or has no [network] table.
[[nodiscard]] std::string client_config(const std::filesystem::path& network_file, const std::filesystem::path& home);

/// Handles `veil init` without --create-device.
void init_home(sdk::Context& ctx, sdk::CommandCall call);

}  // namespace veil::messenger
