// A veil with its own C++ runtime (PluginDirs::refused, the static-client and static-node
// builds) loads no plugin from a directory: naming one is a clear error, and none is searched.
// The static trees check the built executable too (kernel_static_refuses_plugin_dirs); this
// test holds the rule in every build.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <unistd.h>

#include "kernel.hpp"

namespace fs = std::filesystem;
using veil::kernel::Args;
using veil::kernel::Kernel;
using veil::kernel::PluginDirs;

namespace {

// A config enabling no plugin, with or without one plugin directory (that exists), in a fresh
// temporary folder.
struct TempConfig {
    fs::path dir = fs::temp_directory_path() / ("veil-plugin-dirs-" + std::to_string(::getpid()));
    fs::path file = dir / "veil.toml";
    explicit TempConfig(bool with_plugin_dir) {
        fs::create_directories(dir / "plugins");
        std::ofstream(file) << "[kernel]\nplugins = []\n" << (with_plugin_dir ? "plugin_dirs = [\"plugins\"]\n" : "");
    }
    ~TempConfig() { fs::remove_all(dir); }
};

// Unsets VEIL_PLUGIN_PATH for one test and puts it back.
struct NoPluginPathEnv {
    std::optional<std::string> saved;
    NoPluginPathEnv() {
        if (const char* v = std::getenv("VEIL_PLUGIN_PATH")) saved = v;
        ::unsetenv("VEIL_PLUGIN_PATH");
    }
    ~NoPluginPathEnv() {
        if (saved) ::setenv("VEIL_PLUGIN_PATH", saved->c_str(), 1);
    }
};

constexpr std::string_view kRefusal = "loads no plugin from a directory";

// Prepares `config` as a refusing and as a searching kernel: the first must fail naming the
// rule, the second succeed (the directory itself is harmless).
void check_refused_only_where_refusing(const TempConfig& config) {
    auto refused = Kernel(Args{}, config.dir, PluginDirs::refused).prepare(config.file.string(), {}, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find(kRefusal) != std::string::npos);
    CHECK(Kernel(Args{}, config.dir, PluginDirs::searched).prepare(config.file.string(), {}, {}));
}

}  // namespace

TEST_CASE("kernel - a veil with its own C++ runtime refuses kernel.plugin_dirs and VEIL_PLUGIN_PATH", "[kernel]") {
    NoPluginPathEnv env;
    SECTION("kernel.plugin_dirs") { check_refused_only_where_refusing(TempConfig(true)); }
    SECTION("VEIL_PLUGIN_PATH") {
        TempConfig config(false);
        ::setenv("VEIL_PLUGIN_PATH", (config.dir / "plugins").c_str(), 1);
        check_refused_only_where_refusing(config);
    }
}

TEST_CASE("kernel - a veil with its own C++ runtime searches no directory", "[kernel]") {
    NoPluginPathEnv env;
    TempConfig config(true);
    ::setenv("VEIL_PLUGIN_PATH", (config.dir / "plugins").c_str(), 1);
    auto doc = veil::sdk::ConfigDocument::parse_file(config.file.string());
    REQUIRE(doc);
    auto table = doc.value().table("kernel", veil::kernel::kernel_keys());
    REQUIRE(table);
    CHECK(Kernel(Args{}, config.dir, PluginDirs::refused).search_dirs(table.value(), config.dir).empty());
    // Where directories are searched, both the table's and the environment's are.
    CHECK(Kernel(Args{}, config.dir, PluginDirs::searched).search_dirs(table.value(), config.dir).size() >= 2);
}
