#include <catch2/catch.hpp>

#include "authority_config.hpp"
#include "vote_outbox.hpp"

using namespace veil::directory;
using veil::crypto::SigningKeyPair;
using veil::proto::DirectoryStatus;

namespace {

using test::kPeriodMs;
using test::kStart;

std::unique_ptr<Authority> make(const std::vector<SigningKeyPair>& keys, std::size_t i) {
    return std::make_unique<Authority>(keys[i], test::authority_config(keys));
}

// A vote of `nodes` made-up nodes: what a liar floods with.
veil::wire::Bytes big_vote(const SigningKeyPair& liar, std::uint64_t period, std::size_t nodes, std::uint16_t port) {
    Vote v{period, liar.pub, {}};
    for (std::size_t i = 0; i < nodes; ++i) {
        auto k = SigningKeyPair::generate();
        v.nodes.push_back({k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port});
    }
    return sign_vote(v, liar);
}

// Every request the outbox makes to a peer that answers `answer`, with the bytes each carries.
std::vector<std::pair<OutboxItem, std::size_t>> drain(PeerOutbox& box, const Authority& a, DirectoryStatus answer) {
    std::vector<std::pair<OutboxItem, std::size_t>> sent;
    auto held = a.votes_to_relay();
    while (auto item = box.next(held, false)) {
        sent.emplace_back(*item, item->step == OutboxStep::offer ? item->digest.size() : item->relayed.size());
        box.answered(*item, answer);
        REQUIRE(sent.size() < 100);
    }
    return sent;
}

}  // namespace

TEST_CASE("vote outbox - its own vote leaves first, the others' by digest, none back to its author", "[node][authority]") {
    std::vector<SigningKeyPair> keys;
    for (int i = 0; i < 3; ++i) keys.push_back(SigningKeyPair::generate());
    auto a = make(keys, 0);
    const auto& liar = keys[2];
    const std::uint64_t p = kStart / kPeriodMs;
    a->tick(kStart);
    // Before a's vote leaves, the liar floods it: two large votes for this period (an
    // equivocation) and one for the next, all taken and due to be relayed.
    REQUIRE(a->take_vote({big_vote(liar, p, 2000, 7001), {}}, kStart + 1) == VoteTaken::taken);
    REQUIRE(a->take_vote({big_vote(liar, p, 2000, 7002), {}}, kStart + 1) == VoteTaken::equivocation);
    REQUIRE(a->take_vote({big_vote(liar, p + 1, 2000, 7003), {}}, kStart + 1) == VoteTaken::taken);
    const auto own = veil::proto::digest_of(a->vote_envelope());

    PeerOutbox to_honest(keys[0].pub, keys[1].pub);
    auto held = a->votes_to_relay();
    // Its signature, when due, goes right after its own vote and before any relay.
    auto first = to_honest.next(held, true);
    REQUIRE(first);
    CHECK(first->step == OutboxStep::own_vote);
    CHECK(first->digest == own);
    to_honest.answered(*first, DirectoryStatus::ok);
    auto second = to_honest.next(held, true);
    REQUIRE(second);
    CHECK(second->step == OutboxStep::signature);

    // The peer already holds the liar's votes (the liar sent them to it too): 32 bytes each.
    auto sent = drain(to_honest, *a, DirectoryStatus::ok);
    CHECK(sent.size() == 3);
    for (const auto& [item, bytes] : sent) {
        CHECK(item.step == OutboxStep::offer);
        CHECK(bytes == 32);
    }
    // A peer that lacks them asks, and gets each whole once.
    PeerOutbox to_lacking(keys[0].pub, keys[1].pub);
    auto asked = drain(to_lacking, *a, DirectoryStatus::wanted);
    std::size_t bodies = 0;
    for (const auto& [item, bytes] : asked) bodies += item.step == OutboxStep::body;
    CHECK(asked.front().first.step == OutboxStep::own_vote);
    CHECK(bodies == 3);

    // The liar gets a's own vote and none of its own back.
    PeerOutbox to_liar(keys[0].pub, liar.pub);
    auto back = drain(to_liar, *a, DirectoryStatus::wanted);
    REQUIRE(back.size() == 1);
    CHECK(back.front().first.digest == own);
}

TEST_CASE("vote outbox - a vote is not offered to an authority whose relay signature it carries", "[node][authority]") {
    std::vector<SigningKeyPair> keys;
    for (int i = 0; i < 4; ++i) keys.push_back(SigningKeyPair::generate());
    auto a = make(keys, 0);
    const std::uint64_t p = kStart / kPeriodMs;
    a->tick(kStart);
    auto v = big_vote(keys[3], p, 1, 7001);
    REQUIRE(a->take_vote({v, {{keys[1].pub, sign_relay(v, keys[1])}}}, kStart + 1) == VoteTaken::taken);
    PeerOutbox to_relayer(keys[0].pub, keys[1].pub), to_other(keys[0].pub, keys[2].pub);
    CHECK(drain(to_relayer, *a, DirectoryStatus::wanted).size() == 1);  // its own vote only
    CHECK(drain(to_other, *a, DirectoryStatus::wanted).size() == 3);    // own, offer, body
}
