// Config errors name file, line and key; `veil config check` validates without running.
#include <catch2/catch.hpp>

#include "support/process.hpp"

using namespace veil::test;

TEST_CASE("kernel - config check names file, line and a misspelt key", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("bad.toml", "[kernel]\nplugins = [\"memory\"]\n\n[memory]\nmax_byts = 5\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(f + ":5: unknown key 'memory.max_byts' (known keys: max_bytes, log_level)"));
}

TEST_CASE("kernel - config check reports a wrong type", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("bad.toml", "[kernel]\nplugins = [\"memory\"]\n[memory]\nmax_bytes = \"big\"\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(f + ":4: key 'memory.max_bytes' must be integer, found string"));
}

TEST_CASE("kernel - config check reports a table that names no plugin", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("bad.toml", "[kernel]\nplugins = []\n[memroy]\nmax_bytes = 1\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(f + ":3: table [memroy] names no kernel part or known plugin"));
}

TEST_CASE("kernel - config check reports a kernel key error and a syntax error", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("bad.toml", "[kernel]\nplugin = [\"memory\"]\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(f + ":2: unknown key 'kernel.plugin'"));
    auto g = d.write("syntax.toml", "[kernel]\nplugins = [\"memory\"\n");
    r = run_veil({"config", "check", g});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(g + ":"));
}

TEST_CASE("kernel - config check accepts a good file and --set overrides", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("ok.toml", "[kernel]\nplugins = [\"memory\", \"direct\"]\n[memory]\nmax_bytes = 1024\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(f + ": ok"));
    r = run_veil({"config", "check", f, "--set", "direct.listen=127.0.0.1:0"});
    CHECK(r.exit_code == 0);
    r = run_veil({"config", "check", f, "--set", "direct.lisen=127.0.0.1:0"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--set direct.lisen=127.0.0.1:0: unknown key 'direct.lisen'"));
    r = run_veil({"config", "check", f, "--set", "memory.max_bytes=lots"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--set memory.max_bytes=lots: key 'memory.max_bytes' must be integer"));
}

TEST_CASE("kernel - a bad --set stops veil before anything starts", "[kernel][integration]") {
    TempDir d;
    auto r = run_veil({"--set", "memory.max_bytes=\"x\"", "--set", "kernel.plugins=[\"memory\"]", "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("key 'memory.max_bytes' must be integer, found string"));
    CHECK(r.out.empty());
}

TEST_CASE("kernel - a required key without a value is reported", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("req.toml", "[kernel]\nplugins = [\"order-first\"]\nplugin_dirs = [\"" + fixture_dir() + "\"]\n");
    auto r = run_veil({"config", "check", f});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("missing required key 'order-first.trace_file'"));
}

TEST_CASE("kernel - the shipped configs pass config check", "[kernel][integration]") {
    for (const char* name : {"minimal.toml", "direct-node.toml"}) {
        auto f = std::string(VEIL_SOURCE_DIR) + "/configs/" + name;
        auto r = run_veil({"config", "check", f});
        INFO(name << ": " << r.err);
        CHECK(r.exit_code == 0);
    }
}

// `--set` after `config check FILE` overrides FILE (not the kernel running the check).
TEST_CASE("kernel - config check applies its --set to the file it checks", "[kernel][integration]") {
    TempDir d;
    auto f = d.write("good.toml", "[kernel]\nplugins = [\"memory\"]\n[memory]\nmax_bytes = 5\n");
    CHECK(run_veil({"config", "check", f}).exit_code == 0);
    auto r = run_veil({"config", "check", f, "--set", "memory.max_byts=1"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("memory.max_byts"));
}
