// Two veil processes on loopback exchange a bus message over the direct transport:
// A's `direct call` publishes transport::Request on A's bus, the direct transport carries it
// over TCP to B, whose direct transport asks B's bus (transport::Inbound routed "echo").
#include <catch2/catch.hpp>

#include "support/process.hpp"

using namespace veil::test;

TEST_CASE("kernel - two kernels exchange a bus message over the direct transport", "[kernel][integration]") {
    TempDir d;
    auto cfg = d.write("b.toml", "[kernel]\nplugins = [\"direct\"]\nhome = \"" + (d.path() / "b").string() +
                                     "\"\n[direct]\nlisten = \"127.0.0.1:0\"\necho = true\n");
    Background b({"--config", cfg}, (d.path() / "b.log").string());
    auto addr = wait_for_line(d.path() / "b" / "direct" / "listen.addr");
    REQUIRE_THAT(addr, Catch::StartsWith("127.0.0.1:"));
    auto home_a = (d.path() / "a").string();

    auto r = run_veil({"--home", home_a, "direct", "call", addr, "echo", "hello over the bus"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "hello over the bus\n");
    CHECK_THAT(r.err, Catch::Contains("NOT anonymous"));

    r = run_veil({"--home", home_a, "direct", "call", addr, "no-such-service", "x"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("unknown service"));

    CHECK(b.alive());
    CHECK(b.stop() == 0);
    CHECK_THAT(read_file(d.path() / "b.log"), Catch::Contains("listening on " + addr));

    // B is gone: the same call is now a clear "unreachable" error.
    r = run_veil({"--home", home_a, "direct", "call", addr, "echo", "x"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("unreachable"));
}
