// ConfigDocument: validation against declared keys, defaults, overrides, messages.
#include <catch2/catch.hpp>

#include "veil/sdk/config_file.hpp"

using namespace veil::sdk;

namespace {
constexpr ConfigKeySpec kKeys[] = {
    {"port", ConfigType::integer, "7000", "tcp port"},
    {"name", ConfigType::string, "node", "a name"},
    {"ratio", ConfigType::floating, "0.5", "a ratio"},
    {"on", ConfigType::boolean, "true", "a switch"},
    {"peers", ConfigType::string_list, "[\"a\", \"b\"]", "peers"},
    {"secret_file", ConfigType::string, "", "required", true},
};
ConfigDocument doc(std::string_view text) { return std::move(ConfigDocument::parse_text(text, "t.toml")).value(); }
}  // namespace

TEST_CASE("config - defaults fill undeclared keys, values keep their types", "[kernel][config]") {
    auto d = doc("[p]\nport = 9\nratio = 2\nsecret_file = \"/k\"\n");
    auto c = d.table("p", kKeys);
    REQUIRE(c.ok());
    CHECK(c.value().get_int("port") == 9);
    CHECK(c.value().get_double("ratio") == 2.0);  // an integer is a valid float
    CHECK(c.value().get_string("name") == "node");
    CHECK(c.value().get_bool("on"));
    CHECK(c.value().get_strings("peers") == std::vector<std::string>{"a", "b"});
    CHECK_THROWS_AS(c.value().get_string("port"), std::logic_error);  // programming error
    CHECK_THROWS_AS(c.value().get_int("nope"), std::logic_error);
}

TEST_CASE("config - every problem is reported with file, line and key", "[kernel][config]") {
    auto d = doc("[p]\nport = \"x\"\nprot = 1\npeers = [1]\n[p.sub]\nx = 1\n");
    auto c = d.table("p", kKeys);
    REQUIRE_FALSE(c.ok());
    const auto& m = c.error().message;
    CHECK_THAT(m, Catch::Contains("t.toml:2: key 'p.port' must be integer, found string"));
    CHECK_THAT(m, Catch::Contains("t.toml:3: unknown key 'p.prot' (known keys: port, name, ratio, on, peers, secret_file)"));
    CHECK_THAT(m, Catch::Contains("t.toml:4: key 'p.peers' must be an array of strings"));
    CHECK_THAT(m, Catch::Contains("unknown key 'p.sub'"));
    CHECK_THAT(m, Catch::Contains("t.toml:1: missing required key 'p.secret_file'"));
}

TEST_CASE("config - --set overrides parse TOML values or fall back to strings", "[kernel][config]") {
    auto d = doc("[p]\nport = 1\nsecret_file = \"k\"\n");
    REQUIRE(d.set("p.port=8080").ok());
    REQUIRE(d.set("p.name=127.0.0.1:0").ok());
    REQUIRE(d.set("p.peers=[\"x\"]").ok());
    REQUIRE(d.set("q.new=1").ok());  // creates a table
    auto c = d.table("p", kKeys);
    REQUIRE(c.ok());
    CHECK(c.value().get_int("port") == 8080);
    CHECK(c.value().get_string("name") == "127.0.0.1:0");
    CHECK(c.value().get_strings("peers") == std::vector<std::string>{"x"});
    CHECK(d.tables() == std::vector<std::string>{"p", "q"});
    REQUIRE(d.set("p.on=maybe").ok());
    auto bad = d.table("p", kKeys);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("--set p.on=maybe: key 'p.on' must be boolean"));
    for (auto malformed : {"novalue", "nodot=1", ".k=1", "t.=1"}) {
        INFO(malformed);
        CHECK_FALSE(d.set(malformed).ok());
    }
}

TEST_CASE("config - syntax errors and stray top-level keys are reported", "[kernel][config]") {
    auto r = ConfigDocument::parse_text("[p]\nport = \n", "s.toml");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::StartsWith("s.toml:2:"));
    auto d = doc("stray = 1\n[p]\n");
    REQUIRE(d.stray_entries().size() == 1);
    CHECK_THAT(d.stray_entries()[0], Catch::StartsWith("t.toml:1: 'stray' must be inside a [table]"));
    CHECK(d.line_of("p") == 2);
    CHECK_FALSE(ConfigDocument::parse_file("/nonexistent.toml").ok());
}

TEST_CASE("config - Config::defaults builds a table for plugin tests", "[kernel][config]") {
    auto c = Config::defaults("p", kKeys);
    CHECK(c.get_int("port") == 7000);
    CHECK_FALSE(c.has("secret_file"));
    constexpr ConfigKeySpec bad[] = {{"n", ConfigType::integer, "ten", "bad default"}};
    CHECK_THROWS_AS(Config::defaults("p", bad), std::logic_error);
}
