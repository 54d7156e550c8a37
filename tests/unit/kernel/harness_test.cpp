// The SDK's plugin test harness (veil/sdk/testing.hpp): what out-of-tree plugin authors rely on.
#include <catch2/catch.hpp>

#include "veil/sdk/testing.hpp"

using namespace veil;

namespace {

struct Echo {
    static constexpr std::string_view topic = "test.harness.echo";
    using Reply = Echo;
    std::string text;
};

// Answers Echo, counts KernelStarted, stops the "kernel" with 7 when asked to.
class EchoPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        ctx.serve<Echo>([](const Echo& e, sdk::Responder<Echo> r) { r.reply({"echo " + e.text}); });
        ctx.on<sdk::KernelStarted>([this, &ctx](const sdk::KernelStarted&) {
            ++started_events;
            ctx.request_stop(7);
        });
        ctx.set_interval(1000, [] {});  // left running: close() must still end cleanly
        started = true;
    }
    void stop() override { stopped = true; }
    bool started = false;
    bool stopped = false;
    int started_events = 0;
};

}  // namespace

TEST_CASE("harness - a plugin starts, answers on the bus, sees KernelStarted and stops cleanly", "[kernel]") {
    EchoPlugin plugin;
    sdk::testing::Harness h;
    auto home = h.home();
    CHECK(std::filesystem::is_directory(home));
    h.start(plugin, "echo");
    CHECK(plugin.started);

    std::optional<std::string> answer;
    (void)h.bus().request<Echo>({"hi"}, 5000, [&](sdk::Result<Echo> r) { answer = r ? r.value().text : "error"; });
    // The bus handle alone does not keep the loop alive: run_until must tick it anyway.
    REQUIRE(h.run_until([&] { return answer.has_value(); }));
    CHECK(*answer == "echo hi");

    h.kernel_started();
    REQUIRE(h.run_until([&] { return h.stop_requested().has_value(); }));
    CHECK(*h.stop_requested() == 7);
    CHECK(plugin.started_events == 1);

    CHECK(h.close() == 0);
    CHECK(plugin.stopped);
    CHECK_FALSE(std::filesystem::exists(home));  // its own temporary HOME is removed
}

TEST_CASE("harness - an unknown config key is refused, as in a config file", "[kernel]") {
    static constexpr sdk::ConfigKeySpec kKeys[] = {{"word", sdk::ConfigType::string, "hello", "a word"}};
    static constexpr sdk::PluginInfo kInfo{.name = "keys", .version = "0.1.0", .kind = sdk::PluginKind::other,
                                           .description = "keys", .provides = {}, .requires_ = {},
                                           .config = kKeys, .commands = {}};
    static const sdk::PluginDescriptor kDescriptor{
        sdk::kAbiVersion, VEIL_SDK_BUILD_KEY, sdk::kSdkVersion, &kInfo,
        []() noexcept -> sdk::Plugin* { return new EchoPlugin; },
        [](sdk::Plugin* p) noexcept { delete p; }};
    sdk::testing::Harness h;
    CHECK_THROWS_WITH(h.start(kDescriptor, {{"colour", std::string("red")}}),
                      Catch::Contains("no config key 'colour'"));
    h.start(kDescriptor, {{"word", std::string("hi")}});
    CHECK(h.close() == 0);
}
