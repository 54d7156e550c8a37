#pragma once
// The kernel: reads the config, asks the host for plugins, starts them in dependency order on
// the libuv loop, and stops them in reverse on SIGINT/SIGTERM or when a command finishes.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "args.hpp"
#include "plugin_host.hpp"
#include "veil/sdk/commands.hpp"
#include "veil/sdk/config_file.hpp"
#include "veil/sdk/result.hpp"

namespace veil::kernel {

/// What a config file resolves to, before anything starts.
struct Plan {
    std::vector<const LoadedPlugin*> order;  ///< start order
    std::vector<sdk::Config> configs;        ///< parallel to order
    sdk::Config kernel;                      ///< the [kernel] table
    std::filesystem::path home;
};

/// Whether plugins may come from directories (kernel.plugin_dirs, VEIL_PLUGIN_PATH, the default).
/// Zero is never valid.
enum class PluginDirs : std::uint8_t {
    searched = 1,  ///< the shared build: dlopen from the search directories
    refused,       ///< VEIL_STATIC_CXX_RUNTIME: built-in plugins only; naming a directory is an error
};

/// What this build does: `refused` where the executable has its own C++ runtime.
PluginDirs build_plugin_dirs();

class Kernel final {
public:
    Kernel(Args args, std::filesystem::path exe_dir, PluginDirs plugin_dirs = build_plugin_dirs());
    ~Kernel();
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    /// Runs to completion; returns the process exit code.
    int run();

    /// Parses `file` (or the built-in config), applies overrides and resolves the plugins it
    /// enables (plus those `command` needs) without starting anything. Errors are printable.
    sdk::Result<Plan> prepare(const std::optional<std::string>& file, const std::vector<std::string>& overrides,
                              const std::vector<std::string>& command);

    /// The host of the config being run (valid after prepare()).
    PluginHost& host() { return *host_; }
    /// Search directories for a config (kernel.plugin_dirs, VEIL_PLUGIN_PATH, default).
    std::vector<std::filesystem::path> search_dirs(const sdk::Config& kernel_table, const std::filesystem::path& base) const;
    const std::filesystem::path& exe_dir() const { return exe_dir_; }

private:
    struct Running;
    void register_builtins();
    void request_stop(int code);
    void shutdown();
    int fail(const std::string& message, int code = 1);
    std::string disable_hint(const std::string& name) const;
    bool asks_for_help() const;
    int help_anyway(const std::string& error);

    Args args_;
    std::filesystem::path exe_dir_;
    PluginDirs plugin_dirs_;
    std::unique_ptr<PluginHost> host_;
    sdk::CommandRegistry commands_;
    uv_loop_t loop_{};
    std::unique_ptr<Running> running_;
    int exit_code_ = 0;
    std::string start_error_;  ///< the first plugin that could not be created or started
    bool stopping_ = false;
};

/// The [kernel] table's keys.
std::span<const sdk::ConfigKeySpec> kernel_keys();
/// The config used when no --config is given.
const char* builtin_config();
/// Registers version, plugins, config, help.
void register_builtin_commands(Kernel& kernel, sdk::CommandRegistry& registry);

}  // namespace veil::kernel
