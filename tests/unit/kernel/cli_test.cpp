// Argument parsing and command dispatch (frontends/cli), without processes.
#include <catch2/catch.hpp>

#include "args.hpp"
#include "dispatch.hpp"

using namespace veil;

namespace {
std::optional<kernel::Args> parse(std::vector<std::string> v, std::string& err) {
    std::vector<char*> argv;
    for (auto& s : v) argv.push_back(s.data());
    return kernel::parse_args(static_cast<int>(argv.size()), argv.data(), err);
}
struct Captured {
    std::string out, err;
    int code = -1;
    sdk::CommandCall::Sinks sinks() {
        return {[this](std::string_view t) { out += t; }, [this](std::string_view t) { err += t; },
                [this](int c) { code = c; }};
    }
};
}  // namespace

TEST_CASE("cli - global options stop at the command word", "[kernel][cli]") {
    std::string err;
    auto a = parse({"veil", "--config", "f.toml", "--set", "a.b=1", "--set", "c.d=2", "-vv", "--home", "H", "send",
                    "--json", "x"},
                   err);
    REQUIRE(a);
    CHECK(*a->config_file == "f.toml");
    CHECK(a->overrides == std::vector<std::string>{"a.b=1", "c.d=2"});
    CHECK(a->verbosity == 2);
    CHECK(*a->home == "H");
    CHECK(a->command == std::vector<std::string>{"send", "--json", "x"});
    CHECK_FALSE(parse({"veil", "--set"}, err));
    CHECK(err == "--set needs a value");
    CHECK_FALSE(parse({"veil", "--nope"}, err));
    CHECK(parse({"veil", "--version"}, err)->command == std::vector<std::string>{"version"});
}

TEST_CASE("cli - --home after the command word is the global option, up to --", "[kernel][cli]") {
    std::string err;
    auto a = parse({"veil", "daemon", "--home", "H", "--json"}, err);
    REQUIRE(a);
    CHECK(*a->home == "H");
    CHECK(a->command == std::vector<std::string>{"daemon", "--json"});
    CHECK(*parse({"veil", "send", "--home=H2", "x"}, err)->home == "H2");
    auto literal = parse({"veil", "send", "ID", "--", "--home", "is text"}, err);
    REQUIRE(literal);
    CHECK_FALSE(literal->home);
    CHECK(literal->command == std::vector<std::string>{"send", "ID", "--", "--home", "is text"});
    CHECK_FALSE(parse({"veil", "daemon", "--home"}, err));
    CHECK(err == "--home needs a value");
}

TEST_CASE("cli - every global option works before or after the command word, up to --", "[kernel][cli]") {
    std::string err;
    auto after = parse({"veil", "receive", "--json", "--config", "c.toml", "--set", "a.b=1", "--log-level=warn",
                        "--passphrase-file", "pw", "--wait", "3"},
                       err);
    REQUIRE(after);
    CHECK(*after->config_file == "c.toml");
    CHECK(after->overrides == std::vector<std::string>{"a.b=1"});
    CHECK(*after->log_level == "warn");
    // The passphrase file is handed to the command (the storage plugin and `init` read it there).
    CHECK(after->command == std::vector<std::string>{"receive", "--passphrase-file", "pw", "--json", "--wait", "3"});
    auto before = parse({"veil", "--passphrase-file", "pw", "--home", "H", "receive", "--json", "--wait", "3"}, err);
    REQUIRE(before);
    CHECK(before->command == after->command);
    CHECK(parse({"veil", "--passphrase-file=pw", "receive", "--json", "--wait", "3"}, err)->command == after->command);
    auto literal = parse({"veil", "send", "ID", "--", "--passphrase-file", "pw"}, err);
    REQUIRE(literal);
    CHECK(literal->command == std::vector<std::string>{"send", "ID", "--", "--passphrase-file", "pw"});
    CHECK_FALSE(parse({"veil", "--passphrase-file"}, err));
    CHECK(err == "--passphrase-file needs a value");
    CHECK_FALSE(parse({"veil", "send", "--config"}, err));
    CHECK(err == "--config needs a value");
}

// Review of the change above: `config check FILE --set T.K=V` overrides FILE, not the running
// kernel, and -c still names the config file.
TEST_CASE("cli - after 'config' --set stays with the command; -c is --config", "[kernel][cli]") {
    std::string err;
    auto check = parse({"veil", "config", "check", "f.toml", "--set", "a.b=1", "--home", "H"}, err);
    REQUIRE(check);
    CHECK(check->overrides.empty());
    CHECK(check->command == std::vector<std::string>{"config", "check", "f.toml", "--set", "a.b=1"});
    CHECK(*check->home == "H");
    auto short_config = parse({"veil", "-c", "f.toml", "receive"}, err);
    REQUIRE(short_config);
    CHECK(*short_config->config_file == "f.toml");
    CHECK_FALSE(parse({"veil", "-c"}, err));
    CHECK(err == "-c needs a value");
}

TEST_CASE("cli - dispatch runs a command, reports unknown ones and contains throws", "[kernel][cli]") {
    sdk::CommandRegistry reg;
    reg.add({"echo", "echo", "echo ARGS", [](sdk::CommandCall c) {
                 for (const auto& a : c.args()) c.out(a + "\n");
                 c.finish(0);
             }},
            "test");
    reg.add({"boom", "throws", "boom", [](sdk::CommandCall) { throw std::runtime_error("bad"); }}, "test");
    reg.add({"lost", "never finishes", "lost", [](sdk::CommandCall) {}}, "test");
    CHECK_THROWS_AS(reg.add({"echo", "", "", [](sdk::CommandCall) {}}, "other"), std::invalid_argument);

    Captured ok;
    cli::dispatch(reg, {"echo", "a", "b"}, ok.sinks());
    CHECK(ok.out == "a\nb\n");
    CHECK(ok.code == 0);
    Captured unknown;
    cli::dispatch(reg, {"nope"}, unknown.sinks());
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown command 'nope'"));
    Captured boom;
    cli::dispatch(reg, {"boom"}, boom.sinks());
    CHECK(boom.code == 1);
    CHECK_THAT(boom.err, Catch::Contains("veil boom: error: bad"));
    Captured lost;
    cli::dispatch(reg, {"lost"}, lost.sinks());
    CHECK(lost.code == sdk::exit_code::internal);
    reg.remove("echo");
    CHECK(reg.find("echo") == nullptr);
}

TEST_CASE("cli - --help and -h anywhere before -- print usage, summary and help, exit 0, never run",
          "[kernel][cli]") {
    sdk::CommandRegistry reg;
    int runs = 0;
    reg.add({"thing", "does a thing", "thing up --dir DIR | thing down",
             [&runs](sdk::CommandCall c) {
                 ++runs;
                 c.fail("--dir DIR is required");
             },
             "  --dir DIR  where"},
            "test");
    for (std::vector<std::string> argv : {std::vector<std::string>{"thing", "--help"}, {"thing", "-h"},
                                          {"thing", "up", "--help"}, {"thing", "down", "x", "-h"}}) {
        Captured c;
        cli::dispatch(reg, argv, c.sinks());
        CHECK(c.code == 0);
        CHECK(c.out == "usage: veil thing up --dir DIR | thing down\n  does a thing\n  --dir DIR  where\n");
    }
    CHECK(runs == 0);
    Captured after;
    cli::dispatch(reg, {"thing", "--", "-h"}, after.sinks());
    CHECK(runs == 1);  // after --, -h is an argument
    CHECK(after.code == 2);
}
