#include <catch2/catch.hpp>
#include <sodium.h>

#include <set>

#include "path_bias.hpp"
#include "path_builder.hpp"

using namespace veil::onion;

namespace {

Candidate candidate(std::uint8_t id, std::uint64_t swarm, std::string address) {
    Candidate c;
    c.hop.node_id.fill(id);
    c.hop.onion_key.fill(id);
    c.hop.address = std::move(address);
    c.swarm_id = swarm;
    return c;
}

std::vector<Candidate> loopback_nodes(int n, int swarms) {
    std::vector<Candidate> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(candidate(static_cast<std::uint8_t>(i + 1), static_cast<std::uint64_t>(i % swarms),
                                "127.0.0." + std::to_string(i + 1) + ":7000"));
    }
    return out;
}

}  // namespace

TEST_CASE("onion - paths use three distinct swarms and a sticky guard", "[onion]") {
    REQUIRE(sodium_init() >= 0);
    PathBuilder builder({});
    builder.set_candidates(loopback_nodes(9, 3));
    auto first = builder.build(1000);
    REQUIRE(first);
    REQUIRE(first->size() == 3);
    for (int round = 0; round < 50; ++round) {
        auto path = builder.build(1000 + static_cast<std::uint64_t>(round));
        REQUIRE(path);
        CHECK(path->front().node_id == first->front().node_id);
        std::set<std::uint8_t> swarms;
        for (const auto& hop : *path) swarms.insert(static_cast<std::uint8_t>((hop.node_id[0] - 1) % 3));
        CHECK(swarms.size() == 3);
    }
}

TEST_CASE("onion - distinct /24 networks are preferred where addresses allow", "[onion]") {
    PathBuilder builder({});
    std::vector<Candidate> nodes{candidate(1, 0, "10.0.1.5:1"), candidate(2, 1, "10.0.1.6:1"),
                                 candidate(3, 2, "10.0.2.5:1"), candidate(4, 3, "10.0.3.5:1")};
    builder.set_candidates(nodes);
    for (int i = 0; i < 30; ++i) {
        auto path = builder.build(5);
        REQUIRE(path);
        std::set<std::string> nets;
        for (const auto& hop : *path) nets.insert(network_of(hop.address));
        CHECK(nets.size() == 3);
    }
    CHECK(network_of("10.0.1.5:1") == "10.0.1");
    CHECK(network_of("[::1]:7000") == "[::1]");
}

TEST_CASE("onion - a struck guard is replaced and struck nodes are avoided until they cool down", "[onion]") {
    PathBuilder::Options options;
    options.strike_ms = 100;
    PathBuilder builder(options);
    builder.set_candidates(loopback_nodes(6, 6));
    auto path = builder.build(0);
    REQUIRE(path);
    Key32 old_guard = path->front().node_id;
    builder.strike(old_guard, 0);
    for (int i = 0; i < 20; ++i) {
        auto p = builder.build(10);
        REQUIRE(p);
        for (const auto& hop : *p) CHECK(hop.node_id != old_guard);
    }
    CHECK(builder.guard()->node_id != old_guard);
}

TEST_CASE("onion - the guard rotates after its lifetime and survives a restart", "[onion]") {
    PathBuilder::Options options;
    options.guard_lifetime_ms = 1000;
    PathBuilder builder(options);
    builder.set_candidates(loopback_nodes(30, 30));
    REQUIRE(builder.build(0));
    auto saved = *builder.guard();

    PathBuilder restarted(options);
    restarted.set_candidates(loopback_nodes(30, 30));
    restarted.restore_guard(saved);
    CHECK(restarted.build(500)->front().node_id == saved.node_id);
    REQUIRE(restarted.build(1500));
    CHECK(restarted.guard()->chosen_ms == 1500);
}

TEST_CASE("onion - an excluded guard is kept for later, and too few nodes give no path", "[onion]") {
    PathBuilder builder({});
    builder.set_candidates(loopback_nodes(5, 5));
    auto path = builder.build(0);
    REQUIRE(path);
    Key32 guard = path->front().node_id;
    auto other = builder.build(1, {guard});
    REQUIRE(other);
    CHECK(other->front().node_id != guard);
    CHECK(builder.guard()->node_id == guard);

    PathBuilder small({});
    small.set_candidates(loopback_nodes(2, 2));  // fewer nodes than hops
    CHECK_FALSE(small.build(0));
}

TEST_CASE("onion - distinct swarms give way before a path through nodes known to be down", "[onion]") {
    // Three swarms; the destination (node 1) is the last live member of swarm 0.
    PathBuilder builder({});
    builder.set_candidates(loopback_nodes(9, 3));
    Key32 destination, dead_a, dead_b;
    destination.fill(1);
    dead_a.fill(4);
    dead_b.fill(7);
    builder.strike(dead_a, 0);
    builder.strike(dead_b, 0);
    for (std::uint64_t now = 1; now < 50; ++now) {
        auto path = builder.build(now, {destination});
        REQUIRE(path);
        std::set<Key32> ids;
        for (const auto& hop : *path) {
            CHECK(hop.node_id != destination);
            CHECK(hop.node_id != dead_a);
            CHECK(hop.node_id != dead_b);
            ids.insert(hop.node_id);
        }
        CHECK(ids.size() == path->size());
    }
}

TEST_CASE("onion - path bias: unverified attempts blame the guard only when no other single node explains them",
          "[onion]") {
    auto node = [](std::uint8_t n) {
        Key32 k{};
        k[0] = n;
        return k;
    };
    const Key32 guard = node(1), hostile = node(2);
    PathBias bias({});
    // One hostile node beyond the guard spoils every attempt through it, on any path.
    for (std::uint8_t i = 0; i < 20; ++i) {
        CHECK_FALSE(bias.record(guard, {node(static_cast<std::uint8_t>(10 + i)), hostile}, false));
    }
    // Honest answers push those out of the window; then four spoiled attempts through paths
    // with no node in common: the guard is the one node on all of them.
    for (int i = 0; i < 8; ++i) CHECK_FALSE(bias.record(guard, {node(3), node(4), node(5)}, true));
    CHECK_FALSE(bias.record(guard, {node(30), node(31), node(32)}, false));
    CHECK_FALSE(bias.record(guard, {node(33), node(34), node(35)}, false));
    CHECK_FALSE(bias.record(guard, {node(36), node(37), node(38)}, false));
    CHECK(bias.record(guard, {node(39), node(40), node(41)}, false));
    // Blaming clears the record: the next spoiled attempt starts a new count.
    CHECK_FALSE(bias.record(guard, {node(42), node(43), node(44)}, false));
}
