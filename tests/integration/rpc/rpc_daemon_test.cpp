// The rpc frontend end to end: Bob runs `veil daemon` with the rpc plugin on a 9-node onion
// testnet, the example echo bot talks to his socket, and Alice uses the CLI. Also the daemon
// seen from outside: its line, `profile` over the socket, SIGTERM -> exit 0, socket removed.
#include "rpc_helpers.hpp"

using veil::test::Testnet;
using namespace veil::test::rpc_helpers;

TEST_CASE("rpc - the daemon prints its line, answers profile on a 0600 socket, and stops cleanly on SIGTERM",
          "[rpc][integration]") {
    Testnet net(9, 3);
    Person bob(net, "bob");
    bob.enable_rpc();
    auto log = net.dir() / "bob-daemon.log";
    veil::test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(daemon_online(bob, log));
    INFO(veil::test::read_file(log));
    struct stat st {};
    REQUIRE(::lstat(bob.socket().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    {
        LineClient c(bob.socket());
        REQUIRE(c.connected());
        auto profile = c.call(request("profile", nullptr, 1));
        CHECK(profile["id"] == 1);
        CHECK(profile["result"]["id"] == bob.id);
        CHECK(profile["result"]["device_key"].get<std::string>().size() == 64);
    }
    // Clients that leave with answers still to come (EPIPE, not SIGPIPE) leave it serving.
    for (int i = 0; i < 5; ++i) {
        LineClient gone(bob.socket());
        std::string burst;
        for (int j = 0; j < 100; ++j) burst += request("conversations", nullptr, j) + "\n";
        gone.send_raw(burst);
    }
    {
        LineClient c(bob.socket());
        CHECK(c.call(request("profile", nullptr, 2))["result"]["id"] == bob.id);
    }
    CHECK(daemon.alive());
    const int stopped = daemon.stop(20000);
    INFO("daemon log at stop:\n" << veil::test::read_file(log));
    CHECK(stopped == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
    // A one-shot command on the same HOME opens no socket.
    auto r = bob.run({"id"});
    CHECK(r.exit_code == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
}

TEST_CASE("rpc - the echo bot answers a message sent from the CLI; bad requests get standard errors and the daemon "
          "keeps serving",
          "[rpc][integration]") {
    Testnet net(9, 3);
    Person alice(net, "alice");
    Person bob(net, "bob");
    bob.enable_rpc();
    auto log = net.dir() / "bob-daemon.log";
    veil::test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(daemon_online(bob, log));
    INFO(veil::test::read_file(log));

    auto bot_log = net.dir() / "bot.log";
    Program bot({"/usr/bin/python3", VEIL_ECHO_BOT, bob.socket().string()}, bot_log);
    REQUIRE(eventually([&] { return veil::test::read_file(bot_log).find("echo bot ready: " + bob.id) != std::string::npos; },
                       30000));
    INFO(veil::test::read_file(bot_log));

    auto sent = alice.run({"send", bob.id, "hello bot"});
    INFO(sent.err);
    REQUIRE(sent.exit_code == 0);
    std::vector<json> got;
    for (int attempt = 0; attempt < 6 && got.empty(); ++attempt) {
        auto r = alice.run({"receive", "--wait", "15", "--json"}, 60000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0]["from"] == bob.id);
    CHECK(got[0]["text"] == "echo: hello bot");

    // Bad input on the live socket: each gets its standard error, and the daemon keeps serving.
    LineClient c(bob.socket());
    REQUIRE(c.connected());
    auto parse = c.call(R"({"jsonrpc":"2.0","method":"profile")");
    CHECK(error_code(parse) == -32700);
    CHECK(parse["id"].is_null());
    CHECK(error_code(c.call(R"({"jsonrpc":"2.0","method":7,"id":1})")) == -32600);
    CHECK(error_code(c.call(R"({"jsonrpc":"1.0","method":"profile","id":2})")) == -32600);
    CHECK(error_code(c.call(request("frobnicate", nullptr, 3))) == -32601);
    CHECK(error_code(c.call(request("send", {{"to", alice.id}}, 4))) == -32602);
    CHECK(error_code(c.call(request("messages", {{"peer", 5}}, 5))) == -32602);
    auto bad_id = c.call(request("send", {{"to", "not-an-id"}, {"text", "x"}}, 6));
    CHECK(error_code(bad_id) <= -32001);
    CHECK(error_code(bad_id) >= -32099);
    CHECK(c.call(request("profile", nullptr, 7))["result"]["id"] == bob.id);
    // The conversation with Alice shows both messages through the API.
    auto msgs = c.call(request("messages", {{"peer", alice.id}}, 8));
    REQUIRE(msgs["result"].is_array());
    std::vector<std::string> texts;
    for (const auto& m : msgs["result"]) {
        texts.push_back(m["text"]);
        CHECK(m["request"] == false);  // the bot's answer accepted Alice's request
    }
    CHECK(texts == std::vector<std::string>{"hello bot", "echo: hello bot"});

    CHECK(daemon.stop(20000) == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
    CHECK(bot.wait(10000) == 0);  // the bot ends when the daemon closes the socket
}
