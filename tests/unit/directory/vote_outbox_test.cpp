#include <catch2/catch.hpp>
#include <sodium.h>

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

// A vote of `nodes` made-up nodes: what a liar floods with (300 is near the largest taken with
// the test's period, Authority::max_vote_bytes).
veil::wire::Bytes big_vote(const SigningKeyPair& liar, std::uint64_t period, std::size_t nodes, std::uint16_t port) {
    Vote v{period, liar.pub, {}};
    for (std::size_t i = 0; i < nodes; ++i) {
        auto k = SigningKeyPair::generate();
        v.nodes.push_back({k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port});
    }
    return sign_vote(v, liar);
}

// Every request the outbox makes to a peer that answers `answer`, with the bytes each carries.
// The votes lane, with the bulk lane's bodies after the middle (both lanes drained in turn).
std::vector<std::pair<OutboxItem, std::size_t>> drain(PeerOutbox& box, const Authority& a, DirectoryStatus answer) {
    std::vector<std::pair<OutboxItem, std::size_t>> sent;
    auto held = a.votes_to_relay();
    const OutboxClock past_middle{a.period(), true};
    for (auto item = box.next(held, false, past_middle); item || (item = box.next_bulk(held, past_middle));
         item = box.next(held, false, past_middle)) {
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
    REQUIRE(a->take_vote({big_vote(liar, p, 300, 7001), {}}, kStart + 1) == VoteTaken::taken);
    REQUIRE(a->take_vote({big_vote(liar, p, 300, 7002), {}}, kStart + 1) == VoteTaken::equivocation);
    REQUIRE(a->take_vote({big_vote(liar, p + 1, 300, 7003), {}}, kStart + 1) == VoteTaken::taken);
    const auto own = veil::proto::digest_of(a->vote_envelope());

    PeerOutbox to_honest(keys[0].pub, keys[1].pub);
    auto held = a->votes_to_relay();
    // Its signature, when due, goes right after its own vote and before any relay.
    const OutboxClock clock{p, false};
    auto first = to_honest.next(held, true, clock);
    REQUIRE(first);
    CHECK(first->step == OutboxStep::own_vote);
    CHECK(first->digest == own);
    to_honest.answered(*first, DirectoryStatus::ok);
    auto second = to_honest.next(held, true, clock);
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

TEST_CASE("vote outbox - a next period's body never takes the votes lane, and the bulk lane only after the middle",
          "[node][authority]") {
    std::vector<SigningKeyPair> keys;
    for (int i = 0; i < 3; ++i) keys.push_back(SigningKeyPair::generate());
    auto a = make(keys, 0);
    const auto& liar = keys[2];
    const std::uint64_t p = kStart / kPeriodMs;
    a->tick(kStart);
    // The liar gives a a large vote for the next period, then (at the edge of the first round)
    // its vote for this one; the peer lacks both.
    auto next_vote = big_vote(liar, p + 1, 300, 7003);
    auto this_vote = big_vote(liar, p, 1, 7001);
    REQUIRE(a->take_vote({next_vote, {}}, kStart + 1) == VoteTaken::taken);
    PeerOutbox box(keys[0].pub, keys[1].pub);
    auto held = a->votes_to_relay();
    const OutboxClock before_middle{p, false}, past_middle{p, true};
    std::vector<OutboxItem> votes_lane;
    while (auto item = box.next(held, false, before_middle)) {
        votes_lane.push_back(*item);
        box.answered(*item, DirectoryStatus::wanted);
        REQUIRE(votes_lane.size() < 10);
    }
    // Its own vote and the offer of the next period's: the body waits for the bulk lane...
    REQUIRE(votes_lane.size() == 2);
    CHECK(votes_lane[1].step == OutboxStep::offer);
    CHECK(votes_lane[1].digest == veil::proto::digest_of(next_vote));
    // ...which sends nothing of it before the middle: this period's votes are travelling.
    CHECK_FALSE(box.next_bulk(held, before_middle));
    // This period's vote, taken late, goes on the votes lane (offer, then body) with nothing
    // large in front of it.
    REQUIRE(a->take_vote({this_vote, {}}, kStart + 200) == VoteTaken::taken);
    held = a->votes_to_relay();
    auto offer = box.next(held, false, before_middle);
    REQUIRE(offer);
    CHECK(offer->step == OutboxStep::offer);
    box.answered(*offer, DirectoryStatus::wanted);
    auto body = box.next(held, false, before_middle);
    REQUIRE(body);
    CHECK(body->step == OutboxStep::body);
    CHECK(body->digest == veil::proto::digest_of(this_vote));
    box.answered(*body, DirectoryStatus::ok);
    CHECK_FALSE(box.next(held, false, past_middle));
    // After the middle the bulk lane sends the next period's body, once: while it is in flight
    // the votes lane does not send it too, not even once its period has begun.
    auto bulk = box.next_bulk(held, past_middle);
    REQUIRE(bulk);
    CHECK(bulk->step == OutboxStep::body);
    CHECK(bulk->digest == veil::proto::digest_of(next_vote));
    CHECK_FALSE(box.next_bulk(held, past_middle));
    CHECK_FALSE(box.next(held, false, OutboxClock{p + 1, false}));
    // Lost (a timeout): it may go again.
    box.failed(*bulk);
    CHECK(box.next_bulk(held, past_middle));
}

TEST_CASE("vote outbox - a request's timeout grows with its size", "[node][authority]") {
    CHECK(peer_timeout_ms(100) == 5000);
    // The largest vote (4 MB) at 2 Mbit/s takes ~16.8 s: it is not abandoned before.
    CHECK(peer_timeout_ms(4 << 20) >= 5000 + (4u << 20) * 8 / 2000);
}

TEST_CASE("vote outbox - a vote larger than one round carries is refused, even for the next period", "[node][authority]") {
    std::vector<SigningKeyPair> keys;
    for (int i = 0; i < 3; ++i) keys.push_back(SigningKeyPair::generate());
    auto a = make(keys, 0);
    const std::uint64_t p = kStart / kPeriodMs;
    a->tick(kStart);
    Vote v{p + 1, keys[2].pub, {}};
    for (std::size_t i = 0; i < 10'000; ++i) {
        VotedNode n{{}, {}, std::string(veil::proto::kMaxHostBytes, 'h'), 1};
        randombytes_buf(n.ed25519.data(), n.ed25519.size());
        randombytes_buf(n.x25519.data(), n.x25519.size());
        v.nodes.push_back(std::move(n));
    }
    auto envelope = sign_vote(v, keys[2]);
    CHECK(envelope.size() > 3'000'000);
    // Taken, it would become current at the period's end and be relayed on the votes lane, in
    // front of a small vote of that period (the review's HIGH finding).
    CHECK(a->take_vote({envelope, {}}, kStart + 800) == VoteTaken::refused);
}
