// Each broken fixture plugin fails with its own clear message, naming the plugin; what already
// started is stopped in reverse; the exit code is non-zero. Real `veil` processes.
#include <catch2/catch.hpp>

#include "support/process.hpp"

using namespace veil::test;

namespace {
// A config enabling `plugins` (TOML list body) with the fixture directory on the search path.
std::string config_with(const TempDir& d, const std::string& plugins, const std::string& extra = "") {
    return d.write("veil.toml", "[kernel]\nplugins = [" + plugins + "]\nplugin_dirs = [\"" + fixture_dir() +
                                    "\"]\nhome = \"" + (d.path() / "home").string() + "\"\n" + extra);
}
std::string trace_tables(const TempDir& d) {
    auto trace = (d.path() / "trace").string();
    return "[order-first]\ntrace_file = \"" + trace + "\"\n[order-second]\ntrace_file = \"" + trace + "\"\n";
}
}  // namespace

TEST_CASE("kernel - an ABI mismatch names the plugin and both versions", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"abi-mismatch\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'abi-mismatch'") && Catch::Contains("SDK ABI mismatch") &&
                          Catch::Contains("SDK 9.9.9") && Catch::Contains("this kernel has ABI 0x"));
    CHECK(r.out.empty());
}

TEST_CASE("kernel - a build key mismatch is refused", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"build-key-mismatch\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'build-key-mismatch'") && Catch::Contains("build key mismatch") &&
                          Catch::Contains("msvc-19"));
}

TEST_CASE("kernel - a plugin without the entry symbol is refused", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"missing-symbol\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'missing-symbol'") &&
                          Catch::Contains("missing entry symbol 'veil_plugin_descriptor'"));
}

TEST_CASE("kernel - a missing requirement names plugin and requirement", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"requires-missing\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'requires-missing' requires 'no-such-plugin', which no enabled "
                                      "plugin provides"));
}

TEST_CASE("kernel - a dependency cycle is reported", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"cycle-a\", \"cycle-b\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("dependency cycle: cycle-a -> cycle-b -> cycle-a"));
}

TEST_CASE("kernel - an enabled plugin that does not exist is reported", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"no-such-thing\""), "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'no-such-thing' not found"));
}

TEST_CASE("kernel - a throw in start stops what started, in reverse, and exits 1", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"order-second\", \"order-first\", \"throws-in-start\"", trace_tables(d)),
                   "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'throws-in-start' failed to start: fixture: refusing to start"));
    CHECK(r.out.empty());  // the command never ran
    CHECK(read_file(d.path() / "trace") == "start order-first\nstart order-second\nstop order-second\nstop order-first\n");
}

TEST_CASE("kernel - plugins start in dependency order and stop in reverse", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"order-second\", \"order-first\"", trace_tables(d)), "version"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("veil "));
    CHECK(read_file(d.path() / "trace") == "start order-first\nstart order-second\nstop order-second\nstop order-first\n");
}

TEST_CASE("kernel - SIGTERM stops a running kernel cleanly", "[kernel][integration]") {
    TempDir d;
    auto cfg = config_with(d, "\"order-second\", \"order-first\", \"memory\"", trace_tables(d));
    Background k({"--config", cfg}, (d.path() / "log").string());
    // Both started once the second line is there.
    for (int i = 0; i < 500 && read_file(d.path() / "trace").size() < 40; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(read_file(d.path() / "trace") == "start order-first\nstart order-second\n");
    CHECK(k.stop() == 0);
    CHECK(read_file(d.path() / "trace") == "start order-first\nstart order-second\nstop order-second\nstop order-first\n");
    CHECK_THAT(read_file(d.path() / "log"), !Catch::Contains("open handle"));
}

TEST_CASE("kernel - a throwing constructor is reported with its message and the plugin's name", "[kernel][integration]") {
    TempDir d;
    auto config = config_with(d, "\"throws-in-ctor\"");
    auto r = run_veil({"--config", config, "version"});
    CHECK(r.exit_code == 1);
    // The message travels in a buffer the kernel passes to create(), so it arrives even from a
    // plugin that carries its own copy of the SDK (dlopened by a static veil).
    CHECK_THAT(r.err, Catch::Contains("plugin 'throws-in-ctor': its constructor failed: fixture: no database here"));
    // The error says how to run without it.
    CHECK_THAT(r.err, Catch::Contains("remove \"throws-in-ctor\" from kernel.plugins in " + config));
}

TEST_CASE("kernel - a plugin that fails to start says how to disable it", "[kernel][integration]") {
    TempDir d;
    auto config = config_with(d, "\"throws-in-start\"");
    auto r = run_veil({"--config", config, "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("plugin 'throws-in-start' failed to start: fixture: refusing to start"));
    CHECK_THAT(r.err, Catch::Contains("remove \"throws-in-start\" from kernel.plugins in " + config));
}

TEST_CASE("kernel - a throwing bus handler is reported with the plugin's name; the command still runs",
          "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--config", config_with(d, "\"throws-in-handler\""), "version"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("veil "));
    CHECK_THAT(r.err, Catch::Contains("plugin 'throws-in-handler': handler for 'veil.kernel.started' threw: "
                                      "fixture: handler broke"));
}

TEST_CASE("kernel - config check runs a plugin's own config checks", "[kernel][integration]") {
    TempDir d;
    auto bad = config_with(d, "\"checks-config\"", "[checks-config]\nport = 8080\n");
    auto r = run_veil({"config", "check", bad});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("[checks-config] checks-config.port must be below 1024"));
    // The same check refuses to run it.
    r = run_veil({"--config", bad, "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("checks-config.port must be below 1024"));
    auto good = config_with(d, "\"checks-config\"", "[checks-config]\nport = 443\n");
    r = run_veil({"config", "check", good});
    CHECK(r.exit_code == 0);
}
