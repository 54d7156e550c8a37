// Bus semantics: order per topic, request/reply, timeout, cross-thread publish, throwing
// handler, bounded queue, routes, unsubscribe.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "support/loop.hpp"
#include "veil/sdk/bus.hpp"

using namespace veil::sdk;
using veil::test::TestLoop;

namespace {
struct Tick {
    static constexpr std::string_view topic = "test.tick";
    int n = 0;
};
struct Other {
    static constexpr std::string_view topic = "test.other";
    std::string text;
};
struct Pong {
    int value = 0;
};
struct Ping {
    static constexpr std::string_view topic = "test.ping";
    using Reply = Pong;
    int value = 0;
};
struct Nobody {
    static constexpr std::string_view topic = "test.nobody";
    using Reply = Pong;
};
struct Forward {
    static constexpr std::string_view topic = "test.forward";
    using Reply = Pong;
};
}  // namespace

TEST_CASE("bus - messages of a topic arrive in publish order", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        std::vector<int> got;
        std::vector<std::string> other;
        auto s1 = bus.subscribe<Tick>([&](const Tick& t) { got.push_back(t.n); });
        auto s2 = bus.subscribe<Other>([&](const Other& o) { other.push_back(o.text); });
        for (int i = 0; i < 1000; ++i) {
            REQUIRE(bus.publish(Tick{i}));
            if (i % 100 == 0) REQUIRE(bus.publish(Other{std::to_string(i)}));
        }
        REQUIRE(loop.run_until([&] { return got.size() == 1000 && other.size() == 10; }));
        for (int i = 0; i < 1000; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i);
        CHECK(other.front() == "0");
        CHECK(other.back() == "900");
        CHECK(bus.stats().delivered == 1010);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - every subscriber gets the message; a reset subscription gets nothing", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        int a = 0, b = 0;
        auto sa = bus.subscribe<Tick>([&](const Tick&) { ++a; });
        auto sb = bus.subscribe<Tick>([&](const Tick&) { ++b; });
        REQUIRE(bus.publish(Tick{}));
        REQUIRE(loop.run_until([&] { return a == 1 && b == 1; }));
        sb.reset();
        REQUIRE(bus.publish(Tick{}));
        REQUIRE(loop.run_until([&] { return a == 2; }));
        CHECK(b == 1);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - a handler may unsubscribe itself and subscribe others", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        int once = 0, later = 0;
        Subscription self, added;
        self = bus.subscribe<Tick>([&](const Tick&) {
            ++once;
            self.reset();
            added = bus.subscribe<Tick>([&](const Tick&) { ++later; });
        });
        REQUIRE(bus.publish(Tick{1}));
        REQUIRE(bus.publish(Tick{2}));
        REQUIRE(loop.run_until([&] { return later == 1; }));
        CHECK(once == 1);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - a throwing handler is contained and the others still run", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        int after = 0;
        auto s1 = bus.subscribe<Tick>([](const Tick&) { throw std::runtime_error("boom"); });
        auto s2 = bus.subscribe<Tick>([&](const Tick&) { ++after; });
        REQUIRE(bus.publish(Tick{}));
        REQUIRE(bus.publish(Tick{}));
        REQUIRE(loop.run_until([&] { return after == 2; }));
        CHECK(bus.stats().handler_errors == 2);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - request gets the typed reply, sync or async", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        std::vector<Responder<Pong>> later;
        auto srv = bus.serve<Ping>([&](const Ping& p, Responder<Pong> r) {
            if (p.value % 2) {
                later.push_back(r);  // answer after the handler returned
            } else {
                r.reply(Pong{p.value * 10});
            }
        });
        std::vector<int> replies;
        for (int i = 0; i < 4; ++i) {
            REQUIRE(bus.request<Ping>(Ping{i}, 5000, [&](Result<Pong> r) {
                REQUIRE(r.ok());
                replies.push_back(r.value().value);
            }));
        }
        REQUIRE(loop.run_until([&] { return replies.size() == 2 && later.size() == 2; }));
        for (auto& r : later) r.reply(Pong{-1});
        later.clear();
        REQUIRE(loop.run_until([&] { return replies.size() == 4; }));
        CHECK(replies == std::vector<int>{0, 20, -1, -1});
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - request errors: timeout, no handler, abandoned, throwing server", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        std::vector<Responder<Pong>> kept;
        auto srv = bus.serve<Ping>([&](const Ping& p, Responder<Pong> r) {
            if (p.value == 1) kept.push_back(r);                  // never answered: timeout
            if (p.value == 3) throw std::runtime_error("server broke");
            // p.value == 2: responder dropped unanswered
        });
        std::map<int, ErrorCode> errors;
        for (int i = 1; i <= 3; ++i) {
            REQUIRE(bus.request<Ping>(Ping{i}, 50, [&errors, i](Result<Pong> r) {
                REQUIRE_FALSE(r.ok());
                errors[i] = r.error().code;
            }));
        }
        std::optional<Error> none;
        REQUIRE(bus.request<Nobody>(Nobody{}, 50, [&](Result<Pong> r) { none = r.error(); }));
        REQUIRE(loop.run_until([&] { return errors.size() == 3 && none.has_value(); }));
        CHECK(errors[1] == ErrorCode::timeout);
        CHECK(errors[2] == ErrorCode::abandoned);
        CHECK(errors[3] == ErrorCode::handler_failed);
        CHECK(none->code == ErrorCode::no_handler);
        // A reply after the timeout is dropped, not delivered twice.
        kept.front().reply(Pong{1});
        loop.run_until([] { return false; }, 20);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - routes select one server among several of a topic", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        auto a = bus.serve<Ping>([](const Ping&, Responder<Pong> r) { r.reply(Pong{1}); }, "a");
        auto b = bus.serve<Ping>([](const Ping&, Responder<Pong> r) { r.reply(Pong{2}); }, "b");
        CHECK_THROWS_AS(bus.serve<Ping>([](const Ping&, Responder<Pong>) {}, "a"), std::logic_error);
        std::vector<int> got;
        REQUIRE(bus.request<Ping>({}, 1000, [&](Result<Pong> r) { got.push_back(r.value().value); }, "b"));
        REQUIRE(bus.request<Ping>({}, 1000, [&](Result<Pong> r) { got.push_back(r.value().value); }, "a"));
        REQUIRE(loop.run_until([&] { return got.size() == 2; }));
        CHECK(got == std::vector<int>{2, 1});
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - publish from other threads is delivered on the loop thread", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        std::atomic<int> off_loop{0};
        std::vector<int> seen;
        auto loop_thread = std::this_thread::get_id();
        auto s = bus.subscribe<Tick>([&](const Tick& t) {
            if (std::this_thread::get_id() != loop_thread) ++off_loop;
            seen.push_back(t.n);
        });
        constexpr int kThreads = 4, kEach = 2000;
        std::atomic<int> refused{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&bus, &refused, t] {
                for (int i = 0; i < kEach; ++i) {
                    if (!bus.publish_wait(Tick{t * kEach + i})) ++refused;
                }
            });
        }
        REQUIRE(loop.run_until([&] { return seen.size() == kThreads * kEach; }));
        for (auto& th : threads) th.join();
        CHECK(refused == 0);
        CHECK(off_loop == 0);
        // Per producer, order is kept.
        std::vector<int> last(kThreads, -1);
        for (int v : seen) {
            int t = v / kEach;
            REQUIRE(v > last[static_cast<std::size_t>(t)]);
            last[static_cast<std::size_t>(t)] = v;
        }
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - a reply from a worker thread comes back on the loop", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        std::vector<std::thread> workers;
        auto srv = bus.serve<Ping>([&](const Ping& p, Responder<Pong> r) {
            workers.emplace_back([r, v = p.value] { r.reply(Pong{v + 1}); });
        });
        auto loop_thread = std::this_thread::get_id();
        bool on_loop = false;
        int got = 0;
        REQUIRE(bus.request<Ping>(Ping{41}, 5000, [&](Result<Pong> r) {
            on_loop = std::this_thread::get_id() == loop_thread;
            got = r.value().value;
        }));
        REQUIRE(loop.run_until([&] { return got != 0; }));
        for (auto& w : workers) w.join();
        CHECK(got == 42);
        CHECK(on_loop);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - the queue is bounded: a fast producer is refused, not buffered", "[kernel][bus]") {
    TestLoop loop;
    {
        Bus bus(loop.get(), BusOptions{100});
        int got = 0;
        auto s = bus.subscribe<Tick>([&](const Tick&) { ++got; });
        int accepted = 0;
        for (int i = 0; i < 1000; ++i) accepted += bus.publish(Tick{i}) ? 1 : 0;
        CHECK(accepted == 100);
        CHECK(bus.stats().dropped_full == 900);
        CHECK(bus.stats().queued == 100);
        // publish_wait would deadlock on the loop thread: refused there.
        CHECK_FALSE(bus.publish_wait(Tick{}));
        REQUIRE(loop.run_until([&] { return got == 100; }));
        CHECK(bus.publish(Tick{}));
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - close drops pending callbacks and refuses new messages", "[kernel][bus]") {
    TestLoop loop;
    bool called = false;
    {
        Bus bus(loop.get());
        std::vector<Responder<Pong>> kept;
        auto srv = bus.serve<Ping>([&](const Ping&, Responder<Pong> r) { kept.push_back(r); });
        REQUIRE(bus.request<Ping>({}, 0, [&](Result<Pong>) { called = true; }));
        REQUIRE(loop.run_until([&] { return kept.size() == 1; }));
        bus.close();
        CHECK_FALSE(bus.publish(Tick{}));
        kept.front().reply(Pong{});
        loop.run_until([] { return false; }, 20);
    }
    CHECK_FALSE(called);
    CHECK(loop.close() == 0);
}

TEST_CASE("bus - close while a queued request owns another request's responder does not deadlock", "[kernel][bus]") {
    // The network plugin answers a swarm request from the reply of a transport request it queued;
    // the kernel closing the bus destroys that queued envelope, whose responder then sends its
    // "abandoned" reply into the bus being closed.
    TestLoop loop;
    std::optional<Result<Pong>> outer;
    {
        Bus bus(loop.get());
        std::vector<Responder<Pong>> kept;
        auto never = bus.serve<Forward>([](const Forward&, Responder<Pong>) {});
        auto srv = bus.serve<Ping>([&](const Ping&, Responder<Pong> r) { kept.push_back(std::move(r)); });
        REQUIRE(bus.request<Ping>({}, 0, [&](Result<Pong> r) { outer = std::move(r); }));
        REQUIRE(loop.run_until([&] { return kept.size() == 1; }));
        REQUIRE(bus.request<Forward>({}, 0, [r = std::move(kept.front())](Result<Pong> inner) mutable {
            if (inner.ok()) r.reply(inner.value());
        }));
        kept.clear();  // the queued Forward request now holds the only responder of the Ping
        bus.close();
        CHECK_FALSE(bus.publish(Tick{}));
        loop.run_until([] { return false; }, 20);
    }
    CHECK_FALSE(outer.has_value());  // callbacks of a closed bus are dropped, not called
    CHECK(loop.close() == 0);
}
