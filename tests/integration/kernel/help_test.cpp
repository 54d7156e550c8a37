// `--help` and `-h` on every command and subcommand print its usage and exit 0. The command list
// comes from the registry (`veil help` lists every registered command and those of the plugins
// found), so a new command is covered without editing this test.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>

#include "support/process.hpp"

using namespace veil::test;

namespace {

// Each command line of `veil help`: "  USAGE   SUMMARY" -> the command's words as the usage
// starts ("config check FILE" -> {"config", "check"}; a subcommand is a lowercase word).
std::vector<std::vector<std::string>> commands_from_help(const std::string& help) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(help.substr(help.find("\ncommands:\n") + 11));
    std::string line;
    static const std::regex word("[a-z][a-z-]*");
    while (std::getline(in, line)) {
        if (line.rfind("  ", 0) != 0) continue;
        std::istringstream words(line);
        std::string name, sub;
        words >> name >> sub;
        out.push_back({name});
        if (std::regex_match(sub, word)) out.push_back({name, sub});
    }
    return out;
}

}  // namespace

TEST_CASE("kernel - --help and -h on every command and subcommand print the usage and exit 0",
          "[kernel][integration]") {
    TempDir home;
    auto list = run_veil({"--home", home.path().string(), "help"});
    REQUIRE(list.exit_code == 0);
    auto commands = commands_from_help(list.out);
    std::set<std::string> names;
    for (const auto& c : commands) names.insert(c.front());
    // The ones the issue named, and the built-ins, must be among them.
    for (const char* must : {"version", "plugins", "config", "help"}) CHECK(names.count(must) == 1);
    for (const auto& words : commands) {
        for (const char* flag : {"--help", "-h"}) {
            std::vector<std::string> args{"--home", home.path().string()};
            args.insert(args.end(), words.begin(), words.end());
            args.emplace_back(flag);
            auto r = run_veil(args);
            INFO("veil " << words.front() << (words.size() > 1 ? " " + words[1] : "") << " " << flag
                         << "\nstdout: " << r.out << "\nstderr: " << r.err);
            CHECK(r.exit_code == 0);
            CHECK_THAT(r.out, Catch::StartsWith("usage: veil " + words.front()));
        }
    }
}

TEST_CASE("kernel - a --help after -- is an argument, not a request for help", "[kernel][integration]") {
    auto r = run_veil({"config", "check", "--", "--help"});
    CHECK(r.exit_code == 2);  // config check's own usage error, as before
}
