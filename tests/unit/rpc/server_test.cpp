// The rpc server on a real Unix socket and a real bus, with the messenger contract served BY
// THE TEST (TestServedMessenger, an in-memory store): protocol tests of framing, errors,
// batches, subscriptions, limits and the socket file. The daemon end to end is in
// tests/integration/rpc.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <optional>
#include <set>

#include "support/process.hpp"
#include "rpc_test_support.hpp"
#include "server.hpp"
#include "veil/sdk/log.hpp"

using namespace veil;
using namespace veil::rpc;
using namespace veil::rpc::test;
using veil::test::TestLoop;

namespace {

struct Fixture {
    TestLoop loop;
    std::optional<Heartbeat> heartbeat{std::in_place, loop.get()};
    veil::test::TempDir dir;
    std::unique_ptr<sdk::Bus> bus = std::make_unique<sdk::Bus>(loop.get());
    std::unique_ptr<TestServedMessenger> messenger = std::make_unique<TestServedMessenger>(*bus);
    std::unique_ptr<RpcServer> server;

    explicit Fixture(const std::function<void(ServerOptions&)>& adjust = {}) {
        ServerOptions o;
        o.socket_path = dir.path() / "rpc.sock";
        o.dispatch.methods.request_timeout_ms = 5000;
        if (adjust) adjust(o);
        server = std::make_unique<RpcServer>(loop.get(), *bus, o, sdk::log::get("rpc-test"));
        server->start();
    }
    ~Fixture() {
        server.reset();
        messenger.reset();
        bus.reset();
        heartbeat.reset();
        CHECK(loop.close() == 0);
    }
    std::filesystem::path socket() const { return dir.path() / "rpc.sock"; }
    // Lets queued bus deliveries and writes run.
    void settle() {
        int n = 0;
        loop.run_until([&] { return ++n > 20; });
    }
};

std::string req(const std::string& method, const json& params, int id) {
    json r{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
    if (!params.is_null()) r["params"] = params;
    return r.dump();
}

int error_code(const json& answer) { return answer.at("error").at("code").get<int>(); }

}  // namespace

TEST_CASE("rpc - profile, send and the lists map to the messenger contract (messenger served by the test)", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    REQUIRE(c.connected());

    auto profile = c.call(f.loop, req("profile", nullptr, 1));
    CHECK(profile["id"] == 1);
    CHECK(profile["result"]["id"] == veil_id('a'));

    auto sent = c.call(f.loop, req("send", {{"to", veil_id('b')}, {"text", "hello"}}, 2));
    CHECK(sent["result"]["text"] == "hello");
    CHECK(sent["result"]["delivery"] == "queued");
    CHECK(sent["result"]["outgoing"] == true);
    REQUIRE(f.messenger->sent.size() == 1);
    CHECK(f.messenger->sent[0].to == veil_id('b'));
    CHECK_FALSE(f.messenger->sent[0].keep_metadata);

    auto convs = c.call(f.loop, req("conversations", nullptr, 3));
    REQUIRE(convs["result"].size() == 1);
    CHECK(convs["result"][0]["peer"] == veil_id('b'));

    auto msgs = c.call(f.loop, req("messages", {{"peer", veil_id('b')}, {"limit", 10}}, 4));
    REQUIRE(msgs["result"].size() == 1);
    CHECK(msgs["result"][0]["sent_at_ms"].is_number_unsigned());

    CHECK(c.call(f.loop, req("contacts.save", {{"id", veil_id('b')}, {"name", "Bob"}}, 5))["result"] == json::object());
    auto contacts = c.call(f.loop, req("contacts", nullptr, 6));
    CHECK(contacts["result"][0]["name"] == "Bob");
    CHECK(c.call(f.loop, req("contacts.block", {{"id", veil_id('b')}, {"blocked", true}}, 7)).contains("result"));
    CHECK(f.messenger->blocked[veil_id('b')]);
    CHECK(c.call(f.loop, req("disappearing", {{"peer", veil_id('b')}, {"seconds", 3600}}, 8)).contains("result"));
    CHECK(f.messenger->disappearing[veil_id('b')] == 3600);
    CHECK(c.call(f.loop, req("mark_read", {{"peer", veil_id('b')}}, 9)).contains("result"));
    auto devices = c.call(f.loop, req("devices", nullptr, 10));
    CHECK(devices["result"][0]["this_device"] == true);

    // The sender's explicit choice to send a file with its metadata reaches the messenger.
    auto kept = c.call(f.loop, req("send", {{"to", veil_id('b')}, {"file", "/tmp/song.flac"}, {"keep_metadata", true}}, 11));
    CHECK(kept.contains("result"));
    REQUIRE(f.messenger->sent.size() == 2);
    CHECK(f.messenger->sent[1].keep_metadata);
    CHECK(f.messenger->sent[1].file_path == "/tmp/song.flac");
}

TEST_CASE("rpc - group methods map to the messenger contract; a person's ID or a bad member list is refused", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    auto made = c.call(f.loop, req("group.create", {{"name", "team"}, {"members", {veil_id('b'), veil_id('c')}}}, 1));
    CHECK(made["result"]["id"] == group_id('e'));
    CHECK(made["result"]["members"].size() == 3);
    CHECK(made["result"]["members"][0]["role"] == "admin");
    CHECK(c.call(f.loop, req("group.create", {{"name", "alone"}}, 2))["result"]["members"].size() == 1);
    CHECK(c.call(f.loop, req("group.list", nullptr, 3))["result"].size() == 2);
    CHECK(c.call(f.loop, req("group.members", {{"group", group_id('e')}}, 4))["result"]["name"] == "team");
    CHECK(c.call(f.loop, req("group.add", {{"group", group_id('e')}, {"members", {veil_id('d')}}}, 5)).contains("result"));
    CHECK(c.call(f.loop, req("group.remove", {{"group", group_id('e')}, {"members", {veil_id('b')}}}, 6)).contains("result"));
    CHECK(c.call(f.loop, req("group.admin", {{"group", group_id('e')}, {"members", {veil_id('c')}}}, 7)).contains("result"));
    REQUIRE(f.messenger->changes.size() == 3);
    CHECK(f.messenger->changes[0].change == msg::GroupChange::add);
    CHECK(f.messenger->changes[1].change == msg::GroupChange::remove);
    CHECK(f.messenger->changes[2].change == msg::GroupChange::admin);
    CHECK(f.messenger->changes[2].members == std::vector<std::string>{veil_id('c')});
    auto sent = c.call(f.loop, req("group.send", {{"group", group_id('e')}, {"text", "hi all"}}, 8));
    CHECK(sent["result"]["text"] == "hi all");
    REQUIRE(f.messenger->sent.size() == 1);
    CHECK(f.messenger->sent[0].to == group_id('e'));
    CHECK(c.call(f.loop, req("group.messages", {{"group", group_id('e')}, {"limit", 5}}, 9))["result"].size() == 1);
    auto unknown = c.call(f.loop, req("group.members", {{"group", group_id('f')}}, 10));
    CHECK(error_code(unknown) == -32000 - static_cast<int>(sdk::ErrorCode::not_found));
    const std::vector<std::pair<std::string, json>> bad{
        {"group.send", {{"group", veil_id('b')}, {"text", "a person's ID is not a group"}}},
        {"group.send", {{"group", group_id('e')}}},
        {"group.send", {{"group", group_id('e')}, {"text", ""}}},
        {"group.send", {{"group", "03" + std::string(64, 'z')}, {"text", "x"}}},
        {"group.messages", {{"group", group_id('e')}, {"limit", 0}}},
        {"group.create", {{"members", {veil_id('b')}}}},
        {"group.create", {{"name", ""}}},
        {"group.create", {{"name", "x"}, {"members", veil_id('b')}}},
        {"group.create", {{"name", "x"}, {"members", {5}}}},
        {"group.add", {{"group", group_id('e')}, {"members", json::array()}}},
        {"group.add", {{"group", group_id('e')}}},
        {"group.admin", {{"group", group_id('e')}, {"members", {veil_id('b'), veil_id('c')}}}},
        {"group.accept", {{"id", group_id('e')}}},
        {"group.list", {{"x", 1}}},
    };
    for (const auto& [method, params] : bad) {
        INFO(method << " " << params.dump());
        CHECK(error_code(c.call(f.loop, req(method, params, 11))) == -32602);
    }
    CHECK(f.messenger->sent.size() == 1);  // none of them reached the messenger
    CHECK(f.messenger->changes.size() == 3);
}

TEST_CASE("rpc - malformed JSON, invalid requests, unknown methods and bad params get standard errors; the connection keeps serving",
          "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    auto parse = c.call(f.loop, R"({"jsonrpc":"2.0","method":"profile",)");
    CHECK(error_code(parse) == -32700);
    CHECK(parse["id"].is_null());
    CHECK(error_code(c.call(f.loop, R"({"jsonrpc":"2.0","method":42,"id":1})")) == -32600);
    auto unknown = c.call(f.loop, req("no.such.method", nullptr, 2));
    CHECK(error_code(unknown) == -32601);
    CHECK(unknown["id"] == 2);
    for (const json& bad : {json{{"text", "no recipient"}}, json{{"to", 5}, {"text", "x"}},
                            json{{"to", veil_id('b')}}, json{{"to", veil_id('b')}, {"text", "x"}, {"colour", "red"}},
                            json{{"to", veil_id('b')}, {"file", "relative/path.jpg"}}, json::array({"positional"}),
                            json{{"to", veil_id('b')}, {"text", "x"}, {"keep_metadata", true}},
                            json{{"to", veil_id('b')}, {"file", "/tmp/a.flac"}, {"keep_metadata", "yes"}}}) {
        INFO(bad.dump());
        auto a = c.call(f.loop, req("send", bad, 3));
        CHECK(error_code(a) == -32602);
        CHECK(a["id"] == 3);
    }
    CHECK(error_code(c.call(f.loop, req("messages", {{"peer", veil_id('b')}, {"limit", -1}}, 4))) == -32602);
    CHECK(error_code(c.call(f.loop, req("messages", {{"peer", veil_id('b')}, {"limit", 0}}, 4))) == -32602);
    CHECK(error_code(c.call(f.loop, req("contacts.block", {{"id", veil_id('b')}, {"blocked", "yes"}}, 5))) == -32602);
    CHECK(error_code(c.call(f.loop, req("disappearing", {{"peer", veil_id('b')}, {"seconds", 1.5}}, 6))) == -32602);
    CHECK(error_code(c.call(f.loop, req("profile", {{"x", 1}}, 7))) == -32602);
    // Still serving, on this connection and to a new one.
    CHECK(c.call(f.loop, req("profile", nullptr, 8))["result"]["id"] == veil_id('a'));
    SocketClient other(f.socket());
    CHECK(other.call(f.loop, req("profile", nullptr, 9))["id"] == 9);
}

TEST_CASE("rpc - bus errors become -32000-range errors carrying the bus message and kind", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    auto bad = c.call(f.loop, req("send", {{"to", "nobody"}, {"text", "x"}}, 1));
    CHECK(error_code(bad) == -32000 - static_cast<int>(sdk::ErrorCode::bad_input));
    CHECK(bad["error"]["message"] == "not a Veil ID");
    CHECK(bad["error"]["data"]["kind"] == "bad_input");
    auto nf = c.call(f.loop, req("contacts.accept", {{"id", veil_id('c')}}, 2));
    CHECK(error_code(nf) == -32000 - static_cast<int>(sdk::ErrorCode::not_found));
    CHECK(nf["error"]["message"] == "no request from that ID");
    // Nobody serves the contract any more: no_handler, and the server still answers.
    f.messenger.reset();
    auto gone = c.call(f.loop, req("profile", nullptr, 3));
    CHECK(gone["error"]["data"]["kind"] == "no_handler");
    CHECK(error_code(gone) <= -32000);
    CHECK(error_code(gone) > -32100);
}

TEST_CASE("rpc - a batch answers with one array in request order; notifications get no answer", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    const std::string batch = "[" + req("profile", nullptr, 1) + R"(,{"jsonrpc":"2.0","method":"devices"},)" +
                              R"({"foo":"boo"},)" + req("nope", nullptr, 4) + "," +
                              req("contacts", nullptr, 5) + "]";
    auto a = c.call(f.loop, batch);
    REQUIRE(a.is_array());
    REQUIRE(a.size() == 4);  // the notification has no entry
    CHECK(a[0]["id"] == 1);
    CHECK(a[0].contains("result"));
    CHECK(error_code(a[1]) == -32600);
    CHECK(error_code(a[2]) == -32601);
    CHECK(a[3]["id"] == 5);

    // Notifications alone: nothing comes back, and the next request is answered first.
    c.send_all(f.loop, R"({"jsonrpc":"2.0","method":"profile"})"
                       "\n"
                       R"([{"jsonrpc":"2.0","method":"profile"},{"jsonrpc":"2.0","method":"devices"}])"
                       "\n");
    CHECK(c.call(f.loop, req("profile", nullptr, 6))["id"] == 6);
    // A notification is still run: sending one queues a message.
    c.send_all(f.loop, R"({"jsonrpc":"2.0","method":"send","params":{"to":")" + veil_id('b') + R"(","text":"n"}})" "\n");
    f.loop.run_until([&] { return f.messenger->sent.size() == 1; });
    CHECK(f.messenger->sent.size() == 1);
    CHECK(error_code(c.call(f.loop, "[]")) == -32600);
}

TEST_CASE("rpc - subscribe streams message events as notifications; unsubscribe stops them", "[rpc]") {
    Fixture f;
    SocketClient sub(f.socket());
    SocketClient quiet(f.socket());
    CHECK(sub.call(f.loop, req("subscribe", nullptr, 1))["result"]["subscribed"] == true);
    // The server is fed by the frontend's bus handlers in the plugin; here the test forwards.
    auto fwd = f.bus->subscribe<msg::MessageAdded>([&](const msg::MessageAdded& e) {
        f.server->broadcast(notification("message", {{"event", "added"}, {"message", e.message.text}}));
    });
    f.messenger->arrive(veil_id('b'), "hi bot");
    auto n = sub.next(f.loop);
    CHECK(n["method"] == "message");
    CHECK_FALSE(n.contains("id"));
    CHECK(n["params"]["message"] == "hi bot");
    f.settle();
    CHECK_FALSE(quiet.line());
    CHECK(sub.call(f.loop, req("unsubscribe", nullptr, 2))["result"]["subscribed"] == false);
    f.messenger->arrive(veil_id('b'), "again");
    f.settle();
    CHECK_FALSE(sub.line());
}

TEST_CASE("rpc - receive returns unread incoming messages once, marks them read, and misses none arriving meanwhile",
          "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    f.messenger->arrive(veil_id('b'), "one");
    f.messenger->arrive(veil_id('c'), "two");
    CHECK(c.call(f.loop, req("send", {{"to", veil_id('b')}, {"text", "mine"}}, 1)).contains("result"));
    bool injected = false;
    f.messenger->before_mark_read = [&](const std::string& peer) {
        if (injected || peer != veil_id('b')) return;
        injected = true;
        f.messenger->arrive(veil_id('b'), "late");  // lands between listing and marking read
    };
    auto r = c.call(f.loop, req("receive", nullptr, 2));
    REQUIRE(r["result"].is_array());
    std::vector<std::string> texts;
    for (const auto& m : r["result"]) texts.push_back(m["text"]);
    std::sort(texts.begin(), texts.end());
    CHECK(texts == std::vector<std::string>{"late", "one", "two"});
    CHECK(c.call(f.loop, req("receive", nullptr, 3))["result"].empty());
}

TEST_CASE("rpc - the socket is 0600; a stale socket is replaced, a live one or another file refused; stop removes it",
          "[rpc]") {
    TestLoop loop;
    veil::test::TempDir dir;
    {
        Heartbeat heartbeat(loop.get());
        sdk::Bus bus(loop.get());
        ServerOptions o;
        o.socket_path = dir.path() / "rpc.sock";
        auto log = sdk::log::get("rpc-test");
        {
            RpcServer s(loop.get(), bus, o, log);
            s.start();
            struct stat st {};
            REQUIRE(::lstat(o.socket_path.c_str(), &st) == 0);
            CHECK(S_ISSOCK(st.st_mode));
            CHECK((st.st_mode & 0777) == 0600);
            RpcServer second(loop.get(), bus, o, log);
            CHECK_THROWS_WITH(second.start(), Catch::Contains("another process is serving"));
            CHECK(std::filesystem::exists(o.socket_path));  // the refused one did not remove ours
            s.stop();
            CHECK_FALSE(std::filesystem::exists(o.socket_path));
        }
        {
            // A stale socket: bound, never listened on, left behind (as after kill -9).
            int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, o.socket_path.c_str(), sizeof addr.sun_path - 1);
            REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
            ::close(fd);
            RpcServer s(loop.get(), bus, o, log);
            s.start();
            SocketClient c(o.socket_path);
            CHECK(c.connected());
        }
        {
            std::ofstream(o.socket_path) << "precious";
            RpcServer s(loop.get(), bus, o, log);
            CHECK_THROWS_WITH(s.start(), Catch::Contains("not a socket"));
            CHECK(veil::test::read_file(o.socket_path) == "precious");
        }
        {
            ServerOptions longer = o;
            longer.socket_path = dir.path() / std::string(120, 'x');
            RpcServer s(loop.get(), bus, longer, log);
            CHECK_THROWS_WITH(s.start(), Catch::Contains("at most 107"));
        }
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("rpc - an over-long line is answered with an error and the connection goes on", "[rpc]") {
    Fixture f([](ServerOptions& o) { o.max_line_bytes = 1024; });
    SocketClient c(f.socket());
    auto a = c.call(f.loop, R"({"jsonrpc":"2.0","method":"send","params":{"text":")" + std::string(5000, 'x') + "\"}}");
    CHECK(error_code(a) == -32600);
    CHECK(a["error"]["message"].get<std::string>().find("1024") != std::string::npos);
    CHECK(c.call(f.loop, req("profile", nullptr, 2))["id"] == 2);
}

TEST_CASE("rpc - connections over the limit are refused with an error; the others keep working", "[rpc]") {
    Fixture f([](ServerOptions& o) { o.max_connections = 2; });
    SocketClient a(f.socket());
    auto b = std::make_unique<SocketClient>(f.socket());
    CHECK(a.call(f.loop, req("profile", nullptr, 1))["id"] == 1);
    CHECK(b->call(f.loop, req("profile", nullptr, 2))["id"] == 2);
    SocketClient c(f.socket());
    CHECK(error_code(c.next(f.loop)) == code::server_busy);
    CHECK(c.wait_closed(f.loop));
    CHECK(f.server->stats().refused == 1);
    CHECK(a.call(f.loop, req("profile", nullptr, 3))["id"] == 3);
    // Once one leaves, a new client gets in.
    b.reset();
    f.loop.run_until([&] { return f.server->stats().connections == 1; });
    SocketClient d(f.socket());
    CHECK(d.call(f.loop, req("profile", nullptr, 4))["id"] == 4);
}

TEST_CASE("rpc - a client that does not read its answers stops being read, loses nothing, memory stays bounded",
          "[rpc]") {
    constexpr std::size_t kPending = 64 * 1024;
    Fixture f([](ServerOptions& o) {
        o.max_pending_bytes = kPending;
        o.max_in_flight = 2;
    });
    for (int i = 0; i < 10; ++i) f.messenger->arrive(veil_id('b'), std::string(10000, 'm'));  // ~100 KB per answer
    SocketClient c(f.socket());
    constexpr int kRequests = 60;  // ~6 MB of answers, far beyond the socket buffers
    std::string all;
    for (int i = 1; i <= kRequests; ++i) all += req("messages", {{"peer", veil_id('b')}}, i) + "\n";
    std::size_t off = 0;
    // Write everything without reading: once the server stops reading us, our writes stall too.
    for (int spin = 0; spin < 200 && off < all.size(); ++spin) {
        off += c.send_some(std::string_view(all).substr(off));
        f.settle();
    }
    // Then read: every answer arrives, in order, and the server never held much unsent.
    for (int i = 1; i <= kRequests; ++i) {
        if (off < all.size()) off += c.send_some(std::string_view(all).substr(off));
        auto a = c.next(f.loop);
        REQUIRE(a["id"] == i);
        CHECK(a["result"].size() == 10);
    }
    const auto peak = f.server->stats().peak_pending_bytes;
    INFO("peak unsent " << peak);
    CHECK(peak <= kPending + 2 * 110000);  // the bound plus the answers in flight when it was hit
}

TEST_CASE("rpc - a subscriber that does not read its events is disconnected; memory stays bounded", "[rpc]") {
    constexpr std::size_t kPending = 128 * 1024;
    Fixture f([](ServerOptions& o) { o.max_pending_bytes = kPending; });
    SocketClient slow(f.socket());
    SocketClient fine(f.socket());
    CHECK(slow.call(f.loop, req("subscribe", nullptr, 1))["result"]["subscribed"] == true);
    const json big = notification("message", {{"text", std::string(32 * 1024, 'e')}});
    int sent = 0;
    for (; sent < 2000 && f.server->stats().dropped_slow == 0; ++sent) {
        f.server->broadcast(big);
        f.settle();
    }
    CHECK(f.server->stats().dropped_slow == 1);
    CHECK(f.server->stats().peak_pending_bytes <= kPending);
    CHECK(slow.wait_closed(f.loop));
    CHECK(fine.call(f.loop, req("profile", nullptr, 2))["id"] == 2);
}

TEST_CASE("rpc - a client that half-closes after writing still gets its answers", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    c.send_all(f.loop, req("profile", nullptr, 1) + "\n" + req("devices", nullptr, 2));  // last line unterminated
    ::shutdown(c.fd(), SHUT_WR);
    CHECK(c.next(f.loop)["id"] == 1);
    CHECK(c.next(f.loop)["id"] == 2);
    CHECK(c.wait_closed(f.loop));
}

TEST_CASE("rpc - clients that leave before their answers do not take the server down", "[rpc]") {
    Fixture f;
    for (int i = 0; i < 20; ++i) {
        auto gone = std::make_unique<SocketClient>(f.socket());
        std::string burst;
        for (int j = 0; j < 50; ++j) burst += req("devices", nullptr, j) + "\n";
        gone->send_all(f.loop, burst);
        gone.reset();  // closed with answers still to come
        f.settle();
    }
    f.loop.run_until([&] { return f.server->stats().connections == 0; });
    CHECK(f.server->stats().connections == 0);
    SocketClient c(f.socket());
    CHECK(c.call(f.loop, req("profile", nullptr, 1))["id"] == 1);
}

TEST_CASE("rpc - 500000 nested arrays in params are refused with a parse error; the server keeps serving", "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    const std::string deep = R"({"jsonrpc":"2.0","method":"profile","id":1,"params":)" + std::string(500000, '[') +
                             std::string(500000, ']') + "}";
    CHECK(error_code(c.call(f.loop, deep)) == -32700);
    CHECK(c.call(f.loop, req("profile", nullptr, 2))["id"] == 2);
    SocketClient other(f.socket());
    CHECK(other.call(f.loop, req("profile", nullptr, 3))["id"] == 3);
}

TEST_CASE("rpc - receive returns every unread message of a peer with more than 1000 unread before marking read",
          "[rpc]") {
    Fixture f;
    SocketClient c(f.socket());
    for (std::size_t n : {1500u, 4500u}) {  // one and two larger asks (1000 -> 4000 -> 16000)
        INFO(n);
        for (std::size_t i = 0; i < n; ++i) f.messenger->arrive(veil_id('b'), "m" + std::to_string(i));
        f.messenger->arrive(veil_id('c'), "other");
        auto r = c.call(f.loop, req("receive", nullptr, 1));
        REQUIRE(r["result"].is_array());
        CHECK(r["result"].size() == n + 1);
        std::set<std::string> texts;
        for (const auto& m : r["result"]) texts.insert(m["text"].get<std::string>());
        CHECK(texts.size() == n + 1);
        CHECK(texts.contains("m0"));
        CHECK(c.call(f.loop, req("receive", nullptr, 2))["result"].empty());
    }
}
