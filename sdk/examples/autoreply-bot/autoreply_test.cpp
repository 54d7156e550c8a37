// The bot in the SDK's harness, against its fake messenger: no network, no daemon.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "veil/sdk/testing.hpp"

extern "C" const veil::sdk::PluginDescriptor* veil_static_plugin_autoreply();

namespace m = veil::sdk::messenger;
using veil::sdk::testing::Harness;

namespace {
const std::string kAlice(66, 'a'), kBob(66, 'b');

// Waits until everything published so far was delivered: a request queued behind it returns.
void drain(Harness& h) {
    bool back = false;
    (void)h.bus().request<m::GetProfile>({}, 5000, [&](auto) { back = true; });
    REQUIRE(h.run_until([&] { return back; }));
}
}  // namespace

TEST_CASE("autoreply answers every incoming text under veil daemon, never its own messages") {
    Harness h({}, std::vector<std::string>{"daemon"});
    auto& messenger = h.messenger();
    h.start_toml(*veil_static_plugin_autoreply(), "reply = \"back soon\"\n");
    h.kernel_started();

    auto first = messenger.receive(kAlice, "hello");
    CHECK(first.request);  // a stranger: answering accepts the request
    REQUIRE(h.run_until([&] { return messenger.sent().size() == 1; }));
    CHECK(messenger.sent()[0].to == kAlice);
    CHECK(messenger.sent()[0].text == "back soon");
    CHECK(messenger.contacts().at(0).accepted);

    messenger.receive(kBob, "are you there?");
    REQUIRE(h.run_until([&] { return messenger.sent().size() >= 2; }));
    drain(h);
    // Exactly one answer each: the replies it sent (MessageAdded, outgoing) got none.
    REQUIRE(messenger.sent().size() == 2);
    CHECK(messenger.sent()[1].to == kBob);
    CHECK(h.close() == 0);
}

TEST_CASE("autoreply stays quiet during a one-shot command") {
    Harness h({}, std::vector<std::string>{"receive"});
    auto& messenger = h.messenger();
    h.start_toml(*veil_static_plugin_autoreply(), "");
    h.kernel_started();
    messenger.receive(kAlice, "hello");
    drain(h);
    CHECK(messenger.sent().empty());
    CHECK(h.close() == 0);
}

TEST_CASE("autoreply refuses an empty reply with its own words") {
    Harness h;
    CHECK_THROWS_WITH(h.start_toml(*veil_static_plugin_autoreply(), "reply = \"\"\n"),
                      Catch::Contains("autoreply.reply must be 1 to 16384 bytes"));
    CHECK_THROWS_WITH(h.start_toml(*veil_static_plugin_autoreply(), "replies = \"x\"\n"),
                      Catch::Contains("unknown key 'autoreply.replies'"));
    CHECK(h.close() == 0);
}
