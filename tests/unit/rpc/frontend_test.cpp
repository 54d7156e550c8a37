// The rpc frontend in a Context as the kernel makes it: it opens the socket only for a resident
// run (`veil daemon` or no command), stays idle on one-shot commands, and reads its config.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "support/process.hpp"
#include "rpc_frontend.hpp"
#include "rpc_test_support.hpp"

using namespace veil;
using namespace veil::rpc;
using veil::test::TestLoop;

namespace {

// Starts the frontend with `invocation`; returns whether the socket file existed while it ran,
// and whether it was gone after stop.
std::pair<bool, bool> run_with(std::optional<std::vector<std::string>> invocation) {
    TestLoop loop;
    veil::test::TempDir home;
    bool existed = false;
    bool removed = false;
    {
        rpc::test::Heartbeat heartbeat(loop.get());
        sdk::Bus bus(loop.get());
        sdk::CommandRegistry commands;
        commands.set_invocation(std::move(invocation));
        sdk::Context::Parts parts;
        parts.loop = loop.get();
        parts.bus = &bus;
        parts.commands = &commands;
        parts.plugin_name = "rpc";
        parts.config = sdk::Config::defaults("rpc", config_keys());
        parts.home_dir = home.path();
        parts.request_stop = [](int) {};
        auto ctx = std::make_unique<sdk::Context>(std::move(parts));
        RpcFrontend frontend;
        frontend.start(*ctx);
        existed = std::filesystem::exists(home.path() / "rpc.sock");
        if (existed) {
            rpc::test::TestServedMessenger messenger(bus);
            rpc::test::SocketClient c(home.path() / "rpc.sock");
            CHECK(c.call(loop, R"({"jsonrpc":"2.0","method":"subscribe","id":1})")["result"]["subscribed"] == true);
            messenger.arrive(rpc::test::veil_id('b'), "event through the plugin's own bus handlers");
            auto n = c.next(loop);
            CHECK(n["method"] == "message");
            CHECK(n["params"]["event"] == "added");
            CHECK(n["params"]["message"]["text"] == "event through the plugin's own bus handlers");
            CHECK(n["params"]["message"]["delivery"] == "received");
            sdk::messenger::Message m;
            m.id = std::string(32, 'f');
            m.delivery = sdk::messenger::Delivery::sent;
            bus.publish(sdk::messenger::MessageUpdated{m});
            bus.publish(sdk::attachment::TransferProgress{m.id, true, 10, 100});
            sdk::messenger::Conversation conv;
            conv.peer = rpc::test::veil_id('b');
            conv.disappear_after_s = 60;
            bus.publish(sdk::messenger::ConversationUpdated{conv});
            auto updated = c.next(loop);
            CHECK(updated["params"]["event"] == "updated");
            CHECK(updated["params"]["message"]["delivery"] == "sent");
            auto transfer = c.next(loop);
            CHECK(transfer["method"] == "transfer");
            CHECK(transfer["params"]["transfer_id"] == m.id);
            CHECK(transfer["params"]["done_bytes"] == 10);
            auto conversation = c.next(loop);
            CHECK(conversation["method"] == "conversation");
            CHECK(conversation["params"]["disappear_after_s"] == 60);
        }
        frontend.stop();
        removed = !std::filesystem::exists(home.path() / "rpc.sock");
        ctx.reset();
    }
    CHECK(loop.close() == 0);
    return {existed, removed};
}

}  // namespace

TEST_CASE("rpc - the frontend serves on 'daemon' and in the foreground, stays idle on one-shot commands", "[rpc]") {
    CHECK(run_with(std::vector<std::string>{"daemon"}) == std::pair{true, true});
    CHECK(run_with(std::nullopt) == std::pair{true, true});
    CHECK(run_with(std::vector<std::string>{"send", rpc::test::veil_id('b'), "hi"}) == std::pair{false, true});
    CHECK(run_with(std::vector<std::string>{"receive", "--wait", "5"}) == std::pair{false, true});
}

TEST_CASE("rpc - config: socket defaults to HOME/rpc.sock; out-of-range limits are refused naming the key", "[rpc]") {
    auto defaults = sdk::Config::defaults("rpc", config_keys());
    auto o = options_from(defaults, "/home/x");
    CHECK(o.socket_path == "/home/x/rpc.sock");
    CHECK(o.max_connections == 16);
    auto values = defaults.values();
    values["socket"] = std::string("/run/bot.sock");
    values["max_connections"] = std::int64_t{0};
    sdk::Config bad("rpc", values);
    CHECK_THROWS_WITH(options_from(bad, "/home/x"), Catch::Contains("rpc.max_connections"));
    values["max_connections"] = std::int64_t{4};
    CHECK(options_from(sdk::Config("rpc", values), "/home/x").socket_path == "/run/bot.sock");
}
