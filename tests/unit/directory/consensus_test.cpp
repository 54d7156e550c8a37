#include <catch2/catch.hpp>

#include "consensus.hpp"

using namespace veil::directory;

namespace {
VotedNode node(std::uint16_t port) {
    auto k = veil::crypto::SigningKeyPair::generate();
    return VotedNode{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port};
}
PublicKey authority(std::uint8_t i) {
    PublicKey k{};
    k.fill(i);
    return k;
}
std::vector<VotedNode> nodes(std::size_t n) {
    std::vector<VotedNode> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(node(static_cast<std::uint16_t>(7000 + i)));
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

TEST_CASE("consensus - a node is in only when more than half of ALL authorities list it", "[node][consensus]") {
    auto all = nodes(4);
    Vote a{5, authority(1), {all[0], all[1], all[2]}};
    Vote b{5, authority(2), {all[0], all[1], all[3]}};
    Vote c{5, authority(3), {all[0], all[3]}};
    auto in = majority_nodes({a, b, c}, 5, 3);
    CHECK(in == std::vector<VotedNode>{all[0], all[1], all[3]});
    // Two of three voting: a node both list is in (2 > 3/2), one only one lists is not.
    CHECK(majority_nodes({a, b}, 5, 3) == std::vector<VotedNode>{all[0], all[1]});
    // One authority alone (the others down) adds nothing: 1 is not more than half of 3.
    CHECK(majority_nodes({a}, 5, 3).empty());
    // A second vote of the same authority, or a vote of another period, does not count.
    Vote a_again = a;
    CHECK(majority_nodes({a, a_again}, 5, 3).empty());
    Vote b_old = b;
    b_old.period = 4;
    CHECK(majority_nodes({a, b_old}, 5, 3).empty());
    // A lying authority moving a node to another address splits no majority of the others.
    Vote c_lies{5, authority(3), {all[0]}};
    c_lies.nodes[0].port = 9999;
    CHECK(majority_nodes({a, b, c_lies}, 5, 3) == std::vector<VotedNode>{all[0], all[1]});
}

TEST_CASE("consensus - the body is a function of the votes and the previous consensus", "[node][consensus]") {
    auto all = nodes(9);
    ConsensusParams params;
    params.authority_count = 3;
    params.period_ms = 1000;
    params.validity_ms = 5000;
    params.test_network = true;
    params.max_nodes_per_block = 7;
    std::vector<Vote> votes{{10, authority(1), all}, {10, authority(2), all}, {10, authority(3), all}};
    auto m1 = form_consensus(votes, 10, nullptr, params);
    CHECK(m1.version == 10);
    CHECK(m1.issued_ms == 10'000);
    CHECK(m1.valid_until_ms == 15'000);
    CHECK(m1.test_network);
    CHECK(m1.max_nodes_per_block == 7);
    CHECK(m1.nodes.size() == 9);
    CHECK(m1.swarm_ids().size() == 3);
    // The same inputs in another order: the same bytes (what lets signatures add up).
    std::vector<Vote> shuffled{votes[2], votes[0], votes[1]};
    CHECK(encode_manifest_body(form_consensus(shuffled, 10, nullptr, params)) == encode_manifest_body(m1));
    // Next period: one node gone, one new. Nodes that stay keep their swarm.
    auto fresh = node(8000);
    auto next = all;
    next.erase(next.begin() + 4);
    next.push_back(fresh);
    std::sort(next.begin(), next.end());
    std::vector<Vote> votes2{{11, authority(1), next}, {11, authority(2), next}, {11, authority(3), next}};
    auto m2 = form_consensus(votes2, 11, &m1, params);
    CHECK(m2.nodes.size() == 9);
    CHECK(m2.find(all[4].ed25519) == nullptr);
    REQUIRE(m2.find(fresh.ed25519) != nullptr);
    std::size_t kept = 0;
    for (const auto& n : m1.nodes)
        if (const auto* now = m2.find(n.ed25519)) kept += now->swarm == n.swarm ? 1 : 0;
    CHECK(kept == 8);
}
