// `--help` and `-h` on every command and subcommand print its usage and exit 0. The command list
// comes from the registry (`veil help` lists every registered command and those of the plugins
// found), so a new command is covered without editing this test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "support/process.hpp"

using namespace veil::test;

namespace {

// The command names of `veil help`: built-ins and enabled plugins' commands with their usage,
// the commands of plugins found but not enabled as "NAME ...".
std::vector<std::string> command_names(const std::string& help) {
    std::vector<std::string> out;
    std::istringstream in(help.substr(help.find("\ncommands:\n") + 11));
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("  ", 0) != 0) continue;
        std::istringstream words(line);
        std::string name;
        words >> name;
        out.push_back(name);
    }
    return out;
}

// Subcommands named in a usage text: "NAME sub" anywhere ("testnet up ... | testnet status ...")
// and "NAME a|b" alternatives. A stray match is harmless: --help must work there too.
std::set<std::string> subcommands(const std::string& name, const std::string& usage) {
    std::set<std::string> subs;
    const std::regex after_name("(?:^|[ |])" + name + " ([a-z][a-z-]*(?:\\|[a-z][a-z-]*)*)");
    for (std::sregex_iterator it(usage.begin(), usage.end(), after_name), end; it != end; ++it) {
        std::istringstream alternatives((*it)[1].str());
        for (std::string alt; std::getline(alternatives, alt, '|');) subs.insert(alt);
    }
    return subs;
}

}  // namespace

TEST_CASE("kernel - --help and -h on every command and subcommand print the usage and exit 0",
          "[kernel][integration]") {
    TempDir home;
    auto list = run_veil({"--home", home.path().string(), "help"});
    REQUIRE(list.exit_code == 0);
    auto names = command_names(list.out);
    for (const char* must : {"version", "plugins", "config", "help"}) {
        CHECK(std::find(names.begin(), names.end(), must) != names.end());
    }
    auto ask = [&](const std::vector<std::string>& words, const char* flag) {
        std::vector<std::string> args{"--home", home.path().string()};
        args.insert(args.end(), words.begin(), words.end());
        args.emplace_back(flag);
        auto r = run_veil(args);
        std::string shown;
        for (const auto& w : words) shown += w + " ";
        INFO("veil " << shown << flag << "\nstdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, Catch::StartsWith("usage: veil " + words.front()));
        return r.out;
    };
    int subs_seen = 0;
    for (const auto& name : names) {
        auto usage = ask({name}, "--help");
        ask({name}, "-h");
        for (const auto& sub : subcommands(name, usage.substr(0, usage.find('\n')))) {
            ++subs_seen;
            ask({name, sub}, "--help");
            ask({name, sub}, "-h");
        }
    }
    CHECK(subs_seen > 0);  // at least config check
}

TEST_CASE("kernel - a --help after -- is an argument, not a request for help", "[kernel][integration]") {
    auto r = run_veil({"config", "check", "--", "--help"});
    CHECK(r.exit_code == 2);  // config check's own usage error, as before
}
