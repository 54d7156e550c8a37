// Framed TCP on 127.0.0.1: request/reply by id, errors as values, limits.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <thread>

#include "support/loop.hpp"
#include "veil/sdk/net.hpp"

using namespace veil::sdk;
using namespace veil::sdk::net;
using veil::test::TestLoop;

namespace {
Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }
}  // namespace

TEST_CASE("net - endpoints parse and print", "[kernel][net]") {
    auto a = parse_endpoint("127.0.0.1:7000");
    REQUIRE(a.ok());
    CHECK(a.value().host == "127.0.0.1");
    CHECK(a.value().port == 7000);
    auto b = parse_endpoint("[::1]:80");
    REQUIRE(b.ok());
    CHECK(b.value().to_string() == "[::1]:80");
    for (auto bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:70000", "localhost:80", "::1:80", "1.2.3.4:8x"}) {
        INFO(bad);
        CHECK_FALSE(parse_endpoint(bad).ok());
    }
}

TEST_CASE("net - frames round-trip through the decoder in any split", "[kernel][net]") {
    Bytes stream;
    for (std::uint64_t i = 1; i <= 3; ++i) {
        auto f = encode_frame(Frame{i, i == 2 ? FrameStatus::error : FrameStatus::ok, bytes(std::string(i * 10, 'x'))});
        stream.insert(stream.end(), f.begin(), f.end());
    }
    for (std::size_t chunk : {1u, 3u, 7u, 1000u}) {
        FrameDecoder d(1024);
        std::vector<Frame> out;
        for (std::size_t i = 0; i < stream.size(); i += chunk) {
            REQUIRE(d.feed(stream.data() + i, std::min(chunk, stream.size() - i)));
            while (auto f = d.next()) out.push_back(*f);
        }
        REQUIRE(out.size() == 3);
        CHECK(out[1].id == 2);
        CHECK(out[1].status == FrameStatus::error);
        CHECK(out[2].payload.size() == 30);
    }
}

TEST_CASE("net - the decoder refuses oversized, short and bad-status frames", "[kernel][net]") {
    auto big = encode_frame(Frame{1, FrameStatus::ok, Bytes(100, 0)});
    FrameDecoder d(99);
    CHECK_FALSE(d.feed(big.data(), 4));  // refused from the header alone
    CHECK_THAT(d.error(), Catch::Contains("exceeds"));
    const std::uint8_t short_frame[] = {0, 0, 0, 3, 1, 2, 3};
    FrameDecoder s(100);
    CHECK_FALSE(s.feed(short_frame, sizeof short_frame));
    auto bad = encode_frame(Frame{1, FrameStatus::ok, {}});
    bad[12] = 9;
    FrameDecoder b(100);
    b.feed(bad.data(), bad.size());
    CHECK_FALSE(b.next());
    CHECK_THAT(b.error(), Catch::Contains("status"));
}

TEST_CASE("net - a frame limit by payload refuses a large frame where none is expected, before its body",
          "[kernel][net]") {
    // Payloads starting with 'B' may be 1,000 bytes; any other 10.
    FrameLimit limit = [](veil::wire::ByteView head) -> std::optional<std::size_t> {
        if (head.empty()) return std::nullopt;
        return head[0] == 'B' ? 1000 : 10;
    };
    auto big = encode_frame(Frame{1, FrameStatus::ok, Bytes(500, 'B')});
    FrameDecoder ok(1000, limit);
    CHECK(ok.feed(big.data(), 20));
    CHECK(ok.memory() < 500);  // the buffer grows with the bytes received, not the announced length
    CHECK(ok.feed(big.data() + 20, big.size() - 20));
    auto f = ok.next();
    REQUIRE(f);
    CHECK(f->payload.size() == 500);
    auto small = encode_frame(Frame{2, FrameStatus::ok, Bytes(500, 'x')});
    FrameDecoder refused(1000, limit);
    CHECK_FALSE(refused.feed(small.data(), 14));  // header and the first payload byte
    CHECK_THAT(refused.error(), Catch::Contains("limit for its kind"));
    auto tiny = encode_frame(Frame{3, FrameStatus::ok, Bytes(5, 'x')});
    FrameDecoder fine(1000, limit);
    fine.feed(tiny.data(), tiny.size());
    CHECK(fine.next());
}

TEST_CASE("net - a client gets replies matched by id, answered in any order", "[kernel][net]") {
    TestLoop loop;
    {
        std::vector<Reply> held;
        Server server(loop.get(), {}, [&](Bytes body, Reply r) {
            if (text(body) == "later") {
                held.push_back(r);
            } else {
                r.reply(bytes("re:" + text(body)));
            }
        });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        REQUIRE(ep.value().port != 0);
        Client client(loop.get(), ep.value());
        std::vector<std::string> got;
        client.request(bytes("later"), 5000, [&](Result<Bytes> r) { got.push_back("L" + text(r.value())); });
        for (int i = 0; i < 5; ++i) {
            client.request(bytes(std::to_string(i)), 5000, [&](Result<Bytes> r) { got.push_back(text(r.value())); });
        }
        REQUIRE(loop.run_until([&] { return got.size() == 5 && held.size() == 1; }));
        held.front().reply(bytes("done"));
        REQUIRE(loop.run_until([&] { return got.size() == 6; }));
        CHECK(got == std::vector<std::string>{"re:0", "re:1", "re:2", "re:3", "re:4", "Ldone"});
        CHECK(server.connections() == 1);
        held.clear();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("net - a reply from another thread reaches the client", "[kernel][net]") {
    TestLoop loop;
    {
        std::vector<std::thread> workers;
        Server server(loop.get(), {}, [&](Bytes body, Reply r) {
            workers.emplace_back([r, b = std::move(body)]() mutable { r.reply(std::move(b)); });
        });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        Client client(loop.get(), ep.value());
        std::string got;
        client.request(bytes("threaded"), 5000, [&](Result<Bytes> r) { got = text(r.value()); });
        REQUIRE(loop.run_until([&] { return !got.empty(); }));
        for (auto& w : workers) w.join();
        CHECK(got == "threaded");
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("net - failures are error values: refused, timeout, server error, no reply", "[kernel][net]") {
    TestLoop loop;
    {
        std::vector<Reply> held;
        Server server(loop.get(), {}, [&](Bytes body, Reply r) {
            auto t = text(body);
            if (t == "hold") held.push_back(r);
            if (t == "fail") r.fail("nope");
            if (t == "throw") throw std::runtime_error("handler broke");
            // "drop": the reply handle dies unanswered
        });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        Client client(loop.get(), ep.value());
        std::map<std::string, Error> errors;
        for (auto t : {"hold", "fail", "throw", "drop"}) {
            client.request(bytes(t), t == std::string("hold") ? 50 : 5000, [&errors, t](Result<Bytes> r) {
                REQUIRE_FALSE(r.ok());
                errors[t] = r.error();
            });
        }
        // A port nobody listens on: connection refused.
        Server closed_server(loop.get(), {}, [](Bytes, Reply) {});
        auto dead = closed_server.listen({"127.0.0.1", 0});
        REQUIRE(dead.ok());
        closed_server.close();
        Client nowhere(loop.get(), dead.value());
        std::optional<Error> unreachable;
        loop.run_until([] { return false; }, 20);
        nowhere.request(bytes("x"), 5000, [&](Result<Bytes> r) { unreachable = r.error(); });
        REQUIRE(loop.run_until([&] { return errors.size() == 4 && unreachable.has_value(); }));
        CHECK(errors["hold"].code == ErrorCode::timeout);
        CHECK(errors["fail"].code == ErrorCode::handler_failed);
        CHECK(errors["fail"].message == "nope");
        CHECK(errors["throw"].message == "internal error");
        CHECK(errors["drop"].message == "no reply");
        CHECK(unreachable->code == ErrorCode::unreachable);
        held.clear();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("net - an oversized request is refused; an oversized frame closes the connection", "[kernel][net]") {
    TestLoop loop;
    {
        int handled = 0;
        ServerOptions so;
        so.max_frame_bytes = 64;
        Server server(loop.get(), so, [&](Bytes, Reply r) {
            ++handled;
            r.reply({});
        });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        ClientOptions co;
        co.max_frame_bytes = 64;
        Client small(loop.get(), ep.value(), co);
        std::optional<Error> too_large;
        small.request(Bytes(65, 1), 5000, [&](Result<Bytes> r) { too_large = r.error(); });
        CHECK(too_large->code == ErrorCode::too_large);  // refused before sending
        Client big(loop.get(), ep.value());               // client limit 1 MiB, server 64 B
        std::optional<Error> closed;
        big.request(Bytes(1000, 1), 5000, [&](Result<Bytes> r) { closed = r.error(); });
        REQUIRE(loop.run_until([&] { return closed.has_value(); }));
        CHECK(closed->code == ErrorCode::closed);
        CHECK(handled == 0);
        bool ok = false;
        small.request(Bytes(64, 1), 5000, [&](Result<Bytes> r) { ok = r.ok(); });
        REQUIRE(loop.run_until([&] { return ok; }));
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("net - backpressure: a connection stops being read above max_in_flight", "[kernel][net]") {
    TestLoop loop;
    {
        std::vector<Reply> held;
        ServerOptions so;
        so.max_in_flight = 4;
        Server server(loop.get(), so, [&](Bytes, Reply r) { held.push_back(r); });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        Client client(loop.get(), ep.value());
        int answered = 0;
        for (int i = 0; i < 20; ++i) {
            client.request(bytes("x"), 10000, [&](Result<Bytes> r) { answered += r.ok() ? 1 : 0; });
        }
        REQUIRE(loop.run_until([&] { return held.size() >= 4; }));
        loop.run_until([] { return false; }, 50);
        CHECK(held.size() == 4);  // reading paused: the rest waits in the socket
        while (answered < 20) {
            auto batch = std::move(held);
            held.clear();
            for (auto& r : batch) r.reply({});
            auto before = answered;
            REQUIRE(loop.run_until([&] { return answered > before && (held.size() > 0 || answered == 20); }));
            CHECK(held.size() <= 4);
        }
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("net - an idle connection is closed by the server and reopened by the client", "[kernel][net]") {
    TestLoop loop;
    {
        ServerOptions so;
        so.idle_timeout_ms = 30;
        Server server(loop.get(), so, [](Bytes b, Reply r) { r.reply(std::move(b)); });
        auto ep = server.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        Client client(loop.get(), ep.value());
        int ok = 0;
        client.request(bytes("1"), 5000, [&](Result<Bytes> r) { ok += r.ok(); });
        REQUIRE(loop.run_until([&] { return ok == 1; }));
        REQUIRE(loop.run_until([&] { return server.connections() == 0; }));
        loop.run_until([] { return false; }, 20);  // let the client see the close
        client.request(bytes("2"), 5000, [&](Result<Bytes> r) { ok += r.ok(); });
        REQUIRE(loop.run_until([&] { return ok == 2; }));
    }
    CHECK(loop.close() == 0);
}
