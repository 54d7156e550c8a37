// The cli frontend and the kernel's built-in commands, with no --config.
#include <catch2/catch.hpp>

#include <sstream>

#include "support/process.hpp"

using namespace veil::test;

TEST_CASE("kernel - veil version works without a config", "[kernel][integration]") {
    auto r = run_veil({"version"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("veil 0.1.0 (sdk abi "));
}

TEST_CASE("kernel - veil plugins lists name, version, kind and description", "[kernel][integration]") {
    auto r = run_veil({"plugins"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*\ncli +0\.1\.0 +frontend +command-line frontend[\s\S]*)"));
    CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*\nmemory +0\.1\.0 +storage +volatile key/value[\s\S]*)"));
    CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*\ndirect +0\.1\.0 +transport +length-prefixed frames[\s\S]*)"));
    CHECK_THAT(r.out, !Catch::Contains("fixture"));
}

TEST_CASE("kernel - an unknown command is a usage error", "[kernel][integration]") {
    auto r = run_veil({"frobnicate"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("unknown command 'frobnicate'"));
}

TEST_CASE("kernel - help lists built-in and plugin commands", "[kernel][integration]") {
    auto r = run_veil({"help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("config check FILE") && Catch::Contains("plugins [--keys]") &&
                          Catch::Contains("direct ...") && Catch::Contains("(plugin direct"));
}

TEST_CASE("kernel - bad global options are usage errors", "[kernel][integration]") {
    auto r = run_veil({});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Contains("usage: veil"));
    r = run_veil({"--bogus"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("unknown option '--bogus'"));
    r = run_veil({"--config"});
    CHECK(r.exit_code == 2);
    r = run_veil({"--config", "/nonexistent/veil.toml", "version"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("/nonexistent/veil.toml: no such config file"));
}

TEST_CASE("kernel - a static build lists its linked-in plugins with no dlopen", "[kernel][integration][static]") {
    if (std::string(VEIL_STATIC_LIST).empty()) {
        SUCCEED("dynamic build: covered by the static build directory");
        return;
    }
    auto r = run_veil({"plugins"}, {"LD_DEBUG=files"});
    CHECK(r.exit_code == 0);
    for (const char* name : {"\ncli ", "\nmemory ", "\ndirect "}) CHECK_THAT(r.out, Catch::Contains(name));
    CHECK_THAT(r.out, Catch::Contains("[static]") && Catch::Contains("search path: (none: static build)"));
    // The dynamic linker reports every dlopen as "file=... [0]; dynamically loaded by".
    CHECK_THAT(r.err, !Catch::Contains("dynamically loaded") && !Catch::Contains("veil-plugin-"));
}

TEST_CASE("kernel - plugins --keys shows provides and requires; a long key name keeps its type column",
          "[kernel][integration]") {
    auto r = run_veil({"plugins", "--keys"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("    provides: "));
    CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*\n    provides: [^\n]*; requires: [^\n]*\n[\s\S]*)"));
    // Every key line: 4 spaces, the name, at least one space, then the type.
    std::istringstream lines(r.out);
    std::string line;
    int key_lines = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("    ", 0) != 0 || line.rfind("    provides: ", 0) == 0) continue;
        ++key_lines;
        INFO(line);
        CHECK_THAT(line, Catch::Matches(R"(    \S+ +(boolean|integer|float|string|array of strings) .*)"));
    }
    CHECK(key_lines > 0);
}
