// The hello plugin in the SDK's test harness: started with a config value, its command run.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "veil/sdk/testing.hpp"

extern "C" const veil::sdk::PluginDescriptor* veil_static_plugin_hello();

TEST_CASE("hello greets with its configured word") {
    veil::sdk::testing::Harness h;
    h.start(*veil_static_plugin_hello(), {{"greeting", std::string("hi")}});
    h.kernel_started();
    const veil::sdk::Command* hello = h.commands().find("hello");
    REQUIRE(hello != nullptr);

    std::string out;
    std::optional<int> code;
    hello->run(veil::sdk::CommandCall({"Ann"}, {[&](std::string_view s) { out += s; }, [](std::string_view) {},
                                                [&](int c) { code = c; }}));
    REQUIRE(h.run_until([&] { return code.has_value(); }));
    CHECK(*code == 0);
    CHECK(out == "hi, Ann, from an out-of-tree plugin\n");
    CHECK(h.close() == 0);
}
