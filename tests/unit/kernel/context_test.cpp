// Context: timers, worker pool, commands and subscriptions end with the Context.
#include <catch2/catch.hpp>

#include <thread>

#include "support/loop.hpp"
#include "veil/sdk/context.hpp"

using namespace veil::sdk;
using veil::test::TestLoop;

namespace {
struct Tick {
    static constexpr std::string_view topic = "test.tick";
};
}  // namespace

TEST_CASE("context - timers fire on the loop and stop with the context", "[kernel][context]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        CommandRegistry commands;
        int once = 0, every = 0;
        {
            Context ctx({loop.get(), &bus, &commands, "t", {}, "/nonexistent", nullptr});
            ctx.set_timeout(1, [&] { ++once; });
            auto id = ctx.set_interval(1, [&] { ++every; });
            auto cancelled = ctx.set_timeout(1, [] { FAIL("cancelled timer ran"); });
            ctx.cancel_timer(cancelled);
            REQUIRE(loop.run_until([&] { return once == 1 && every >= 3; }));
            ctx.cancel_timer(id);
            auto seen = every;
            loop.run_until([] { return false; }, 20);
            CHECK(every == seen);
            ctx.set_interval(1, [&] { ++every; });
        }
        auto seen = every;
        loop.run_until([] { return false; }, 20);
        CHECK(every == seen);  // the context took its timers with it
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("context - run_blocking runs off the loop and completes on it", "[kernel][context]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        CommandRegistry commands;
        Context ctx({loop.get(), &bus, &commands, "t", {}, "/nonexistent", nullptr});
        auto loop_thread = std::this_thread::get_id();
        std::thread::id work_thread, done_thread;
        bool done = false, threw = false;
        ctx.run_blocking([&] { work_thread = std::this_thread::get_id(); }, [&](std::exception_ptr e) {
            done_thread = std::this_thread::get_id();
            done = !e;
        });
        ctx.run_blocking([] { throw std::runtime_error("disk"); }, [&](std::exception_ptr e) { threw = e != nullptr; });
        REQUIRE(loop.run_until([&] { return done && threw; }));
        CHECK(work_thread != loop_thread);
        CHECK(done_thread == loop_thread);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("context - subscriptions and commands end with the context", "[kernel][context]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        CommandRegistry commands;
        int got = 0;
        int stop_code = -1;
        {
            Context ctx({loop.get(), &bus, &commands, "t", {}, "/nonexistent", [&](int c) { stop_code = c; }});
            ctx.on<Tick>([&](const Tick&) { ++got; });
            ctx.add_command({"mine", "", "", [](CommandCall c) { c.finish(0); }});
            CHECK_THROWS_AS(ctx.add_command({"mine", "", "", [](CommandCall c) { c.finish(0); }}), std::invalid_argument);
            CHECK(commands.list().front().owner == "t");
            REQUIRE(bus.publish(Tick{}));
            REQUIRE(loop.run_until([&] { return got == 1; }));
            ctx.request_stop(3);
        }
        CHECK(stop_code == 3);
        CHECK(commands.find("mine") == nullptr);
        REQUIRE(bus.publish(Tick{}));
        loop.run_until([] { return false; }, 20);
        CHECK(got == 1);
    }
    CHECK(loop.close() == 0);
}
