#include <catch2/catch.hpp>

#include <set>

#include "assignment.hpp"

using namespace veil::directory;

namespace {

PublicKey node(std::uint8_t i) {
    PublicKey k{};
    k[0] = i;
    return k;
}

std::vector<std::size_t> sizes(const SwarmAssigner& a) {
    std::vector<std::size_t> out;
    for (const auto& [id, m] : a.swarms()) out.push_back(m.size());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("assignment - nine nodes at once make three swarms of three", "[node][assignment]") {
    SwarmAssigner a({3, 2});
    for (std::uint8_t i = 1; i <= 9; ++i) a.add_node(node(i));
    CHECK(a.rebalance());
    CHECK(sizes(a) == std::vector<std::size_t>{3, 3, 3});
    CHECK_FALSE(a.rebalance());  // stable
    // Ids are spread on the ring.
    std::set<SwarmId> ids;
    for (const auto& [id, m] : a.swarms()) ids.insert(id);
    CHECK(ids == std::set<SwarmId>{0, 1ULL << 63, 1ULL << 62});
}

TEST_CASE("assignment - nodes joining one by one", "[node][assignment]") {
    SwarmAssigner a({3, 2});
    a.add_node(node(1));
    a.rebalance();
    CHECK(sizes(a) == std::vector<std::size_t>{1});  // no swarm yet: any node makes one
    a.add_node(node(2));
    a.add_node(node(3));
    a.rebalance();
    CHECK(sizes(a) == std::vector<std::size_t>{3});
    a.add_node(node(4));
    a.add_node(node(5));
    a.rebalance();
    CHECK(sizes(a) == std::vector<std::size_t>{5});  // spares join the smallest swarm
    a.add_node(node(6));
    a.rebalance();
    CHECK(sizes(a) == std::vector<std::size_t>{3, 3});  // enough surplus: a new swarm
}

TEST_CASE("assignment - new nodes go to the smallest swarm", "[node][assignment]") {
    SwarmAssigner a({3, 2});
    for (std::uint8_t i = 1; i <= 6; ++i) a.add_node(node(i));
    a.rebalance();
    a.remove_node(node(1));
    a.rebalance();
    SwarmId short_swarm = kInvalidSwarm;
    for (const auto& [id, m] : a.swarms())
        if (m.size() == 2) short_swarm = id;
    REQUIRE(short_swarm != kInvalidSwarm);
    a.add_node(node(7));
    a.rebalance();
    CHECK(a.swarm_of(node(7)) == short_swarm);
}

TEST_CASE("assignment - a swarm that falls too small takes nodes from the largest", "[node][assignment]") {
    SwarmAssigner a({3, 2});
    for (std::uint8_t i = 1; i <= 6; ++i) a.add_node(node(i));
    a.rebalance();
    a.add_node(node(7));
    a.add_node(node(8));
    a.rebalance();
    REQUIRE(sizes(a) == std::vector<std::size_t>{4, 4});
    // Kill three members of one swarm: it has 1 left, below the minimum of 2.
    auto swarms = a.swarms();
    auto victim = swarms.begin()->second;
    for (std::size_t i = 0; i < 3; ++i) a.remove_node(victim[i]);
    a.rebalance();
    CHECK(sizes(a) == std::vector<std::size_t>{2, 3});
    CHECK(a.node_count() == 5);
}

TEST_CASE("assignment - deterministic for the same inputs", "[node][assignment]") {
    SwarmAssigner a({3, 2});
    SwarmAssigner b({3, 2});
    for (std::uint8_t i = 1; i <= 10; ++i) a.add_node(node(i));
    for (std::uint8_t i = 10; i >= 1; --i) b.add_node(node(i));
    a.rebalance();
    b.rebalance();
    CHECK(a.swarms() == b.swarms());
}
