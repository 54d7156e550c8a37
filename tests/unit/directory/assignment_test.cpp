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

namespace {

// A swarm's members of block "hostile", and whether two members share any block.
struct SwarmCheck {
    std::size_t hostile = 0;
    bool shared_block = false;
};

SwarmCheck check_swarm(const std::vector<PublicKey>& members, const std::map<PublicKey, std::string>& blocks) {
    SwarmCheck c;
    std::set<std::string> seen;
    for (const auto& m : members) {
        const auto& b = blocks.at(m);
        c.hostile += b == "hostile" ? 1 : 0;
        c.shared_block |= !seen.insert(b).second;
    }
    return c;
}

// Every swarm: no two nodes of one block, so the hostile block never holds a majority.
void require_spread(const SwarmAssigner& a, const std::map<PublicKey, std::string>& blocks) {
    for (const auto& [id, members] : a.swarms()) {
        auto c = check_swarm(members, blocks);
        CHECK_FALSE(c.shared_block);
        CHECK(2 * c.hostile <= members.size());  // never more than half
    }
}

PublicKey random_key() { return veil::crypto::SigningKeyPair::generate().pub; }

}  // namespace

TEST_CASE("assignment - a hostile operator's nodes in one block never hold a majority of a swarm",
          "[node][assignment]") {
    // 4 hostile nodes of one block, 12 honest nodes each of its own block, K = 3.
    std::map<PublicKey, std::string> blocks;
    std::vector<PublicKey> hostile, honest;
    for (int i = 0; i < 4; ++i) blocks[hostile.emplace_back(random_key())] = "hostile";
    for (int i = 0; i < 12; ++i) blocks[honest.emplace_back(random_key())] = "honest-" + std::to_string(i);

    SECTION("the hostile nodes come first, alone in their period (they formed a swarm of their own before)") {
        SwarmAssigner a({3, 2});
        for (const auto& k : hostile) a.add_node(k, blocks[k]);
        a.rebalance();
        for (const auto& k : honest) a.add_node(k, blocks[k]);
        a.rebalance();
        require_spread(a, blocks);
        CHECK_FALSE(a.rebalance());  // stable
    }
    SECTION("all at once") {
        SwarmAssigner a({3, 2});
        for (const auto& k : blocks) a.add_node(k.first, k.second);
        a.rebalance();
        require_spread(a, blocks);
        CHECK(a.swarms().size() == 5);
    }
    SECTION("one by one, honest nodes first, then the hostile ones in one period") {
        SwarmAssigner a({3, 2});
        for (const auto& k : honest) {
            a.add_node(k, blocks[k]);
            a.rebalance();
        }
        for (const auto& k : hostile) a.add_node(k, blocks[k]);
        a.rebalance();
        require_spread(a, blocks);
    }
    SECTION("interleaved, one per period, and honest nodes leaving") {
        SwarmAssigner a({3, 2});
        for (std::size_t i = 0; i < honest.size(); ++i) {
            a.add_node(honest[i], blocks[honest[i]]);
            if (i % 3 == 2) a.add_node(hostile[i / 3], "hostile");
            a.rebalance();
        }
        require_spread(a, blocks);
        a.remove_node(honest[0]);
        a.remove_node(honest[5]);
        a.rebalance();
        require_spread(a, blocks);
    }
    SECTION("a previous consensus kept them together") {
        SwarmAssigner a({3, 2});
        for (const auto& k : honest) a.add_node(k, blocks[k]);
        a.rebalance();
        for (const auto& k : hostile) a.keep_node(k, a.swarm_of(honest[0]), "hostile");
        a.rebalance();
        require_spread(a, blocks);
    }
}

TEST_CASE("assignment - one block only: every node still has a swarm (consensus spreads no blocks on test networks)",
          "[node][assignment]") {
    SwarmAssigner a({3, 2});
    for (std::uint8_t i = 1; i <= 9; ++i) a.add_node(node(i), "127.0.0.0/24");
    a.rebalance();
    // No other place: they share swarms, and every node still has one.
    for (std::uint8_t i = 1; i <= 9; ++i) CHECK(a.swarm_of(node(i)) != kInvalidSwarm);
    CHECK(a.swarms().size() == 1);
}
