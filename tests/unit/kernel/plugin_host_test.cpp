// PluginHost on the fixture plugins: discovery without dlopen, descriptor checks, ordering.
#include <catch2/catch.hpp>

#include "plugin_host.hpp"

using namespace veil;
using veil::kernel::PluginHost;

namespace {
const std::string kFixtures = std::string(VEIL_BINARY_DIR) + "/tests/fixtures/plugins";
}

TEST_CASE("host - plugins are discovered by file name", "[kernel][host]") {
    PluginHost host({kFixtures, "/nonexistent"});
    for (auto n : {"abi-mismatch", "missing-symbol", "cycle-a", "order-first", "throws-in-start"}) {
        INFO(n);
        CHECK(host.candidates().count(n) == 1);
    }
}

TEST_CASE("host - each broken descriptor gives its own error naming the plugin", "[kernel][host]") {
    PluginHost host({kFixtures});
    auto abi = host.load("abi-mismatch");
    REQUIRE_FALSE(abi.ok());
    CHECK(abi.error().code == sdk::ErrorCode::refused);
    char mine[16];
    std::snprintf(mine, sizeof mine, "0x%08x", sdk::kAbiVersion);
    char theirs[16];
    std::snprintf(theirs, sizeof theirs, "0x%08x", sdk::kAbiVersion ^ 0x5a5a5a5au);
    CHECK_THAT(abi.error().message, Catch::StartsWith("plugin 'abi-mismatch' (") && Catch::Contains(mine) &&
                                        Catch::Contains(theirs));
    auto key = host.load("build-key-mismatch");
    REQUIRE_FALSE(key.ok());
    CHECK_THAT(key.error().message, Catch::Contains("build key mismatch"));
    auto sym = host.load("missing-symbol");
    REQUIRE_FALSE(sym.ok());
    CHECK_THAT(sym.error().message, Catch::Contains("missing entry symbol"));
    auto none = host.load("nothing-here");
    REQUIRE_FALSE(none.ok());
    CHECK_THAT(none.error().message, Catch::Contains("plugin 'nothing-here' not found"));
}

TEST_CASE("host - dependency order, missing requirement and cycle", "[kernel][host]") {
    PluginHost host({kFixtures});
    auto first = host.load("order-first");
    auto second = host.load("order-second");
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    auto ordered = host.order({second.value(), first.value()});
    REQUIRE(ordered.ok());
    CHECK(ordered.value() == std::vector<const kernel::LoadedPlugin*>{first.value(), second.value()});
    auto alone = host.order({second.value()});
    REQUIRE_FALSE(alone.ok());
    CHECK(alone.error().message == "plugin 'order-second' requires 'order-first', which no enabled plugin provides");
    auto a = host.load("cycle-a");
    auto b = host.load("cycle-b");
    REQUIRE((a.ok() && b.ok()));
    auto cyc = host.order({a.value(), b.value()});
    REQUIRE_FALSE(cyc.ok());
    CHECK(cyc.error().message == "dependency cycle: cycle-a -> cycle-b -> cycle-a");
}

TEST_CASE("host - a loaded plugin creates and destroys its object inside its library", "[kernel][host]") {
    PluginHost host({kFixtures});
    auto p = host.load("order-first");
    REQUIRE(p.ok());
    const auto* d = p.value()->descriptor;
    CHECK(p.value()->info().requires_.empty());
    CHECK(p.value()->info().config.size() == 1);
    auto obj = sdk::create_plugin(*d);
    REQUIRE(obj.ok());
    d->destroy(obj.value());
}

TEST_CASE("host - a throwing constructor's message comes back through create()'s buffer", "[kernel][host]") {
    PluginHost host({kFixtures});
    auto p = host.load("throws-in-ctor");
    REQUIRE(p.ok());
    auto obj = sdk::create_plugin(*p.value()->descriptor);
    REQUIRE_FALSE(obj.ok());
    CHECK(obj.error().message == "its constructor failed: fixture: no database here");
}

namespace {
struct ThrowsLong final : sdk::Plugin {
    ThrowsLong() {
        std::string reason;
        while (reason.size() < 5000) reason += "a very long reason ";
        throw std::runtime_error(reason);
    }
    void start(sdk::Context&) override {}
    void stop() override {}
};
constexpr sdk::PluginInfo kLongInfo{.name = "long", .version = "0.1.0", .kind = sdk::PluginKind::other,
                                    .description = "long", .provides = {}, .requires_ = {}, .config = {},
                                    .commands = {}};
const sdk::PluginDescriptor kLongDescriptor{
    sdk::kAbiVersion, VEIL_SDK_BUILD_KEY, sdk::kSdkVersion, &kLongInfo,
    [](char* error, std::size_t error_size) noexcept -> sdk::Plugin* {
        try {
            return new ThrowsLong;
        } catch (const std::exception& e) {
            sdk::write_create_error(error, error_size, e.what());
            return nullptr;
        }
    },
    [](sdk::Plugin* p) noexcept { delete p; }};
}  // namespace

TEST_CASE("host - a constructor's message is cut to the buffer, never past it", "[kernel][host]") {
    char buf[8];
    sdk::write_create_error(buf, sizeof buf, "abcdefghij");
    CHECK(std::string(buf) == "abcdefg");
    sdk::write_create_error(buf, sizeof buf, nullptr);
    CHECK(std::string(buf).empty());
    buf[0] = 'z';
    sdk::write_create_error(buf, 0, "abc");  // no room: nothing written
    CHECK(buf[0] == 'z');
    auto obj = sdk::create_plugin(kLongDescriptor);
    REQUIRE_FALSE(obj.ok());
    CHECK(obj.error().message.size() < 600);
    CHECK_THAT(obj.error().message, Catch::StartsWith("its constructor failed: a very long reason a very long reason"));
}
