#pragma once
/// The logging registry shared by the kernel and every plugin: one spdlog logger per plugin,
/// all writing to one stderr sink. spdlog's registry is a process-wide singleton in the shared
/// libspdlog, so a plugin and the kernel see the same loggers and levels.
/// Never log a message body, a key, a recovery phrase or a client IP address (DESIGN.md §1).
/// All functions are thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "veil/sdk/export.hpp"

namespace veil::sdk::log {

/// The logger named `name`, created on first use with the current default level.
/// Loggers are owned by the registry (created by libveil-sdk), so they outlive any plugin.
VEIL_SDK_API std::shared_ptr<spdlog::logger> get(std::string_view name);

/// Parses "trace", "debug", "info", "warn", "error", "critical" or "off"; false if unknown.
VEIL_SDK_API bool parse_level(std::string_view text, spdlog::level::level_enum& out);

/// Sets the default level and the level of every logger that has no own level.
VEIL_SDK_API void set_default_level(spdlog::level::level_enum level);

/// Gives one logger its own level (from the plugin table's `log_level`).
VEIL_SDK_API void set_level(std::string_view name, spdlog::level::level_enum level);

}  // namespace veil::sdk::log
