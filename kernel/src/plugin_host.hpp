#pragma once
// The plugin host: finds plugins, loads them (Boost.DLL or the static table), checks their
// descriptors and orders them by dependency. Starting and stopping is the Kernel's job.
// Loop thread only. Libraries stay loaded until the host is destroyed (process end).

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "veil/sdk/plugin.hpp"
#include "veil/sdk/result.hpp"

namespace boost::dll {
class shared_library;
}

namespace veil::kernel {

/// Where a plugin can come from, known before anything is loaded.
struct Candidate {
    std::string name;
    std::filesystem::path file;                 ///< empty for a static plugin
    sdk::DescriptorFn* static_entry = nullptr;  ///< set for a static plugin
};

/// A plugin whose descriptor passed every check.
struct LoadedPlugin {
    Candidate source;
    const sdk::PluginDescriptor* descriptor = nullptr;
    const sdk::PluginInfo& info() const { return *descriptor->info; }
};

class PluginHost final {
public:
    /// `search_dirs` in priority order; static plugins always come first.
    explicit PluginHost(std::vector<std::filesystem::path> search_dirs);
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    /// Every plugin found, by name (static first, then the first file per name). No dlopen.
    [[nodiscard]] const std::map<std::string, Candidate>& candidates() const { return candidates_; }
    [[nodiscard]] const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

    /// Loads and checks one plugin (cached). The error names the plugin and says what is wrong.
    sdk::Result<const LoadedPlugin*> load(const std::string& name);

    /// Orders `enabled` so that each plugin comes after what it requires. Errors: a requirement
    /// no enabled plugin provides, or a dependency cycle.
    sdk::Result<std::vector<const LoadedPlugin*>> order(const std::vector<const LoadedPlugin*>& enabled) const;

private:
    sdk::Result<const sdk::PluginDescriptor*> check(const Candidate& c, const sdk::PluginDescriptor* d) const;
    std::vector<std::filesystem::path> dirs_;
    std::map<std::string, Candidate> candidates_;
    std::map<std::string, std::unique_ptr<LoadedPlugin>> loaded_;
    // Loaded libraries, released last (after every object they made is gone).
    std::vector<std::unique_ptr<boost::dll::shared_library>> libraries_;
};

/// The plugins linked into this executable (generated table; empty in a dynamic build).
std::vector<sdk::DescriptorFn*> static_plugins();

/// File name of plugin `name`: veil-plugin-<name>.so
std::string plugin_file_name(const std::string& name);

}  // namespace veil::kernel
