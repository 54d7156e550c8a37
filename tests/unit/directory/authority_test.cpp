#include <catch2/catch.hpp>

#include "authority_config.hpp"

using namespace veil::directory;
using veil::crypto::SigningKeyPair;

namespace {

using test::kPeriodMs;
using test::kStart;

// N authorities in memory, with the bytes carried between them as the plugin carries them.
struct Network {
    std::vector<SigningKeyPair> keys;
    std::vector<std::unique_ptr<Authority>> authorities;
    std::vector<bool> up;
    std::vector<SigningKeyPair> node_keys;

    explicit Network(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) keys.push_back(SigningKeyPair::generate());
        for (std::size_t i = 0; i < n; ++i) authorities.push_back(make(i));
        up.assign(n, true);
    }
    std::unique_ptr<Authority> make(std::size_t i) { return std::make_unique<Authority>(keys[i], test::authority_config(keys)); }
    ManifestVerifier verifier() const {
        std::vector<PublicKey> pubs;
        for (const auto& k : keys) pubs.push_back(k.pub);
        return ManifestVerifier(pubs, pubs.size() / 2 + 1);
    }
    // A node registers with the authorities in `at` (all when empty).
    NodeDescriptor add_node(std::uint64_t now, std::vector<std::size_t> at = {}) {
        node_keys.push_back(SigningKeyPair::generate());
        const auto& k = node_keys.back();
        NodeDescriptor d{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1",
                         static_cast<std::uint16_t>(7000 + node_keys.size()), now};
        for (std::size_t i = 0; i < authorities.size(); ++i)
            if (at.empty() || std::find(at.begin(), at.end(), i) != at.end())
                REQUIRE(authorities[i]->register_node(d, now) == RegisterResult::ok);
        return d;
    }
    // One period: votes at its start, exchanged; consensus at its middle, signatures exchanged.
    void run_period(std::uint64_t period) {
        std::uint64_t start = period * kPeriodMs;
        for (std::size_t i = 0; i < authorities.size(); ++i)
            if (up[i]) authorities[i]->tick(start);
        relay(start);
        for (std::size_t i = 0; i < authorities.size(); ++i)
            if (up[i]) authorities[i]->tick(start + kPeriodMs / 2);
        for (std::size_t i = 0; i < authorities.size(); ++i)
            for (std::size_t j = 0; j < authorities.size(); ++j)
                if (i != j && up[i] && up[j] && authorities[i]->own_signature())
                    authorities[j]->take_signature(*authorities[i]->own_signature(), start + kPeriodMs / 2);
    }
    // Every authority up relays every vote it holds to every other, twice (as the plugin does).
    void relay(std::uint64_t now) {
        for (int round = 0; round < 2; ++round)
            for (std::size_t i = 0; i < authorities.size(); ++i)
                for (const auto& v : up[i] ? authorities[i]->votes_to_relay() : std::vector<OutgoingVote>{})
                    for (std::size_t j = 0; j < authorities.size(); ++j)
                        if (i != j && up[j]) (void)authorities[j]->take_vote(decode_relayed_vote(v.relayed), now);
    }
    // `nodes` nodes every authority sees; every authority fixes its vote at kStart and relays.
    void votes_exchanged(int nodes) {
        for (int i = 0; i < nodes; ++i) add_node(kStart);
        for (auto& a : authorities) a->tick(kStart);
        relay(kStart);
    }
    SignedManifest served(std::size_t i) const { return decode_signed_manifest(authorities[i]->served()); }
};

// A vote straight from its author (no relay signatures).
RelayedVote direct(veil::wire::Bytes envelope) { return RelayedVote{std::move(envelope), {}}; }

}  // namespace

TEST_CASE("authority - three authorities sign one consensus; with one down the others still do", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 9; ++i) net.add_node(kStart);
    net.run_period(p);
    auto m = net.served(0);
    CHECK(m.manifest.version == p);
    CHECK(m.manifest.nodes.size() == 9);
    CHECK(m.signatures.size() == 3);
    CHECK(net.verifier().check(m, kStart + 600) == ManifestCheck::ok);
    CHECK(net.served(1).body == m.body);
    CHECK(net.served(2).body == m.body);

    // Authority 3 is down; a node registered with the two others is admitted, the next period.
    net.up[2] = false;
    auto late = net.add_node(kStart + kPeriodMs, {0, 1});
    net.run_period(p + 1);
    auto m2 = net.served(0);
    CHECK(m2.manifest.version == p + 1);
    CHECK(m2.signatures.size() == 2);
    CHECK(m2.manifest.find(late.ed25519) != nullptr);
    CHECK(net.verifier().check(m2, (p + 1) * kPeriodMs + 600) == ManifestCheck::ok);

    // Two down: the last one cannot serve a consensus alone (it does not even sign one: only its
    // own vote names its previous); the served one stays.
    net.up[1] = false;
    net.run_period(p + 2);
    CHECK(net.authorities[0]->served_version() == p + 1);
    CHECK_FALSE(net.authorities[0]->candidate());
}

TEST_CASE("authority - one lying authority cannot add, remove or reassign a node, nor roll back", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 6; ++i) net.add_node(kStart);
    // The liar (authority 3) sees a node nobody else does, and misses one everybody else sees.
    auto only_liar = net.add_node(kStart, {2});
    auto not_liar = net.add_node(kStart, {0, 1});
    net.run_period(p);
    auto m = net.served(0);
    CHECK(m.signatures.size() == 3);  // its view differs, but the consensus of the same votes is the same body
    CHECK(m.manifest.find(only_liar.ed25519) == nullptr);
    CHECK(m.manifest.find(not_liar.ed25519) != nullptr);
    CHECK(m.manifest.nodes.size() == 7);

    // It signs a manifest of its own, with another swarm for a node and a far higher version.
    auto forged = m.manifest;
    forged.version += 1000;
    forged.nodes[0].swarm ^= 1;
    std::vector<const SigningKeyPair*> liar{&net.keys[2]};
    auto lone = sign_manifest(forged, liar);
    auto v = net.verifier();
    CHECK(v.check(lone, kStart + 600) == ManifestCheck::too_few_signatures);
    CHECK_FALSE(net.authorities[0]->take_manifest(lone, kStart + 600));
    CHECK(net.authorities[0]->served_version() == p);
    // Its signature on a body the honest ones did not form does not replace its valid one.
    ConsensusSignature bad{p, net.keys[2].pub, lone.signatures[0].second};
    CHECK(net.authorities[0]->take_signature(bad, kStart + 600) == SignatureTaken::known);
    CHECK(net.served(0).signatures.size() == 3);
    CHECK(v.check(net.served(0), kStart + 600) == ManifestCheck::ok);
    // Next period it is down; its signature over another body is not added to the two honest ones.
    net.up[2] = false;
    net.run_period(p + 1);
    REQUIRE(net.served(0).signatures.size() == 2);
    ConsensusSignature other_body{p + 1, net.keys[2].pub, lone.signatures[0].second};
    CHECK(net.authorities[0]->take_signature(other_body, (p + 1) * kPeriodMs + 600) == SignatureTaken::refused);
    CHECK(net.served(0).signatures.size() == 2);
}

TEST_CASE("authority - a restarted authority takes the saved or fetched consensus back and never goes back", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 6; ++i) net.add_node(kStart);
    net.run_period(p);
    auto saved = net.authorities[2]->served();
    // Authority 3 restarts (its memory lost), nodes register again with it, and it takes back its
    // saved manifest: its next consensus is the same body as the others' (same previous).
    net.authorities[2] = net.make(2);
    CHECK(net.authorities[2]->take_manifest(decode_signed_manifest(saved), kStart + 700));
    CHECK_FALSE(net.authorities[2]->take_manifest(decode_signed_manifest(saved), kStart + 700));  // not newer
    for (const auto& k : net.node_keys) {
        NodeDescriptor d{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", 0, kStart + 800};
        d.port = net.served(0).manifest.find(k.pub)->port;
        REQUIRE(net.authorities[2]->register_node(d, kStart + 800) == RegisterResult::ok);
        for (std::size_t i = 0; i < 2; ++i) REQUIRE(net.authorities[i]->register_node(d, kStart + 800) == RegisterResult::ok);
    }
    net.run_period(p + 1);
    CHECK(net.served(2).manifest.version == p + 1);
    CHECK(net.served(2).signatures.size() == 3);
    CHECK(net.served(0).body == net.served(2).body);
    // Restarted mid-period with a warm-up, it does not vote until its registry had time to fill.
    AuthorityConfig warm;
    warm.consensus.period_ms = kPeriodMs;
    for (const auto& k : net.keys) warm.authority_keys.push_back(k.pub);
    warm.warm_up_ms = 1500;
    Authority cold(net.keys[1], warm);
    cold.tick((p + 2) * kPeriodMs + 100);
    CHECK(cold.vote_envelope().empty());
    cold.tick((p + 3) * kPeriodMs);
    CHECK(cold.vote_envelope().empty());  // 1.4 s after its start
    cold.tick((p + 3) * kPeriodMs + kPeriodMs / 2);
    CHECK_FALSE(cold.candidate());  // no empty consensus either
    cold.tick((p + 4) * kPeriodMs);
    CHECK_FALSE(cold.vote_envelope().empty());
    // An expired manifest is not taken back after a long outage.
    auto fresh = net.make(1);
    CHECK_FALSE(fresh->take_manifest(decode_signed_manifest(saved), kStart + 10 * kPeriodMs));
}

namespace {

// The consensus authority `liar` would sign for a peer that counted `lie` instead of its vote.
ConsensusSignature signature_over(const Network& net, std::size_t liar, const Vote& lie, const std::vector<Vote>& honest,
                                  std::uint64_t period) {
    auto votes = honest;
    votes.push_back(lie);
    ConsensusParams params;
    params.authority_count = net.keys.size();
    params.period_ms = kPeriodMs;
    params.validity_ms = 5 * kPeriodMs;
    auto m = form_consensus(votes, period, nullptr, params);
    std::vector<const SigningKeyPair*> k{&net.keys[liar]};
    return {period, net.keys[liar].pub, sign_manifest(m, k).signatures[0].second};
}

// `others` nodes every authority sees, then node x seen by authority 1 and the liar (3) only, so
// the liar's vote decides whether x is in; then every authority fixes its vote.
NodeDescriptor liar_decides(Network& net, int others) {
    for (int i = 0; i < others; ++i) net.add_node(kStart);
    auto x = net.add_node(kStart, {0, 2});
    for (auto& a : net.authorities) a->tick(kStart);
    return x;
}

}  // namespace

TEST_CASE("authority - an equivocating authority is left out by everyone, who sign one body", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    auto x = liar_decides(net, 6);
    Vote with_x{p, net.keys[2].pub, net.authorities[2]->registry().view()};
    Vote without_x{p, net.keys[2].pub, {}};
    // Authority 1 gets one vote, authority 2 the other; the honest two relay what they hold.
    REQUIRE(net.authorities[0]->take_vote(direct(sign_vote(with_x, net.keys[2])), kStart) == VoteTaken::taken);
    REQUIRE(net.authorities[1]->take_vote(direct(sign_vote(without_x, net.keys[2])), kStart) == VoteTaken::taken);
    net.up[2] = false;  // it relays nothing itself
    net.relay(kStart + 10);
    for (std::size_t i : {0, 1}) CHECK(net.authorities[i]->equivocators() == std::vector<PublicKey>{net.keys[2].pub});
    for (std::size_t i : {0, 1}) net.authorities[i]->tick(kStart + kPeriodMs / 2);
    REQUIRE(net.authorities[0]->candidate());
    REQUIRE(net.authorities[1]->candidate());
    // Both formed the same body, from the same two votes: x has one vote of three, it is out.
    CHECK(net.authorities[0]->candidate()->body == net.authorities[1]->candidate()->body);
    CHECK(net.authorities[0]->candidate()->manifest.find(x.ed25519) == nullptr);
    // The liar signs each side's body as it would be with its lie counted: the side with x does
    // not verify; the side without x is the honest body (x is out either way), which it may sign.
    std::vector<Vote> honest;
    for (std::size_t i : {0, 1}) honest.push_back(decode_verified_vote(net.authorities[i]->vote_envelope()));
    CHECK(net.authorities[0]->take_signature(signature_over(net, 2, with_x, honest, p), kStart + 600) == SignatureTaken::refused);
    CHECK(net.authorities[1]->take_signature(signature_over(net, 2, without_x, honest, p), kStart + 600) == SignatureTaken::taken);
    // The honest signatures add up: one manifest of version p, verified, served by both.
    for (std::size_t i : {0, 1}) net.authorities[1 - i]->take_signature(*net.authorities[i]->own_signature(), kStart + 600);
    CHECK(net.served(0).body == net.served(1).body);
    CHECK(net.served(0).signatures.size() == 2);
    CHECK(net.served(1).signatures.size() == 3);
    CHECK(net.verifier().check(net.served(0), kStart + 600) == ManifestCheck::ok);
}

TEST_CASE("authority - a vote is taken late only while the relay signatures on it buy rounds", "[node][authority]") {
    Network net(3);  // threshold 2: two rounds of a quarter period before the middle
    const std::uint64_t p = kStart / kPeriodMs;
    net.add_node(kStart);
    for (auto& a : net.authorities) a->tick(kStart);
    const auto round1 = kStart + kPeriodMs / 4;
    CHECK(net.authorities[0]->vote_deadline_ms(p, 1) == round1);
    CHECK(net.authorities[0]->vote_deadline_ms(p, 2) == kStart + kPeriodMs / 2);
    CHECK(net.authorities[0]->vote_deadline_ms(p, 3) == kStart + kPeriodMs / 2);  // never past the middle
    CHECK(net.authorities[0]->take_vote(direct(net.authorities[1]->vote_envelope()), round1 + 1) == VoteTaken::refused);
    CHECK(net.authorities[0]->take_vote(direct(net.authorities[2]->vote_envelope()), kStart + 1) == VoteTaken::taken);
    CHECK(net.authorities[0]->take_vote(direct(net.authorities[2]->vote_envelope()), round1 + 1) == VoteTaken::known);
    // A second vote straight from its author after the first round is refused: it could reach
    // one honest authority before its consensus and the other after (the review's HIGH finding).
    Vote other{p, net.keys[2].pub, {}};
    auto second = sign_vote(other, net.keys[2]);
    CHECK(net.authorities[0]->take_vote(direct(second), round1 + 1) == VoteTaken::refused);
    // Relay signatures that do not count: the author's own, a forged one, an unknown key's.
    auto stranger = SigningKeyPair::generate();
    RelayedVote padded{second, {{net.keys[2].pub, sign_relay(second, net.keys[2])}, {stranger.pub, sign_relay(second, stranger)}}};
    auto forged = sign_relay(second, net.keys[1]);
    forged[0] ^= 1;
    padded.relays.emplace_back(net.keys[1].pub, forged);
    CHECK(net.authorities[0]->take_vote(padded, round1 + 1) == VoteTaken::refused);
    // Vouched for by authority 2 it is taken in the second round: proof of equivocation.
    RelayedVote vouched{second, {{net.keys[1].pub, sign_relay(second, net.keys[1])}}};
    CHECK(net.authorities[0]->take_vote(vouched, kStart + kPeriodMs / 2 + 1) == VoteTaken::refused);
    CHECK(net.authorities[0]->take_vote(vouched, kStart + kPeriodMs / 2) == VoteTaken::equivocation);
    CHECK(net.authorities[0]->counted_votes().size() == 1);  // its own only
    // What it passes on carries its own relay signature after the others'.
    bool signed_on = false;
    for (const auto& v : net.authorities[0]->votes_to_relay()) {
        auto r = decode_relayed_vote(v.relayed);
        if (r.envelope == second)
            signed_on = r.relays.size() == 2 && r.relays[1].first == net.keys[0].pub &&
                        relay_signature_valid(second, net.keys[0].pub, r.relays[1].second);
    }
    CHECK(signed_on);
    // A vote signed by someone else under an authority's name does not even decode.
    auto bad = sign_vote(Vote{p, net.keys[1].pub, {}}, net.keys[1]);
    bad[bad.size() - 1] ^= 1;
    CHECK_THROWS_AS(net.authorities[0]->take_vote(direct(bad), kStart + 1), veil::wire::DecodeError);
}

TEST_CASE("authority - a vote too large to cross one round at the floor rate to every other is refused", "[node][authority]") {
    Network net(3);  // threshold 2: rounds of kPeriodMs / 4; 2 others
    const std::uint64_t p = kStart / kPeriodMs;
    CHECK(net.authorities[0]->max_vote_bytes() == kPeriodMs / 4 * kFloorBytesPerMs / 2);
    // A vote of `n` made-up nodes by authority 1 (signed: only its size is wrong).
    auto vote_of = [&](std::size_t n) {
        Vote v{p, net.keys[1].pub, {}};
        for (std::size_t i = 0; i < n; ++i) {
            VotedNode node{};
            node.ed25519[0] = static_cast<std::uint8_t>(i);
            node.ed25519[1] = static_cast<std::uint8_t>(i >> 8);
            node.host = "203.0.113.1";
            node.port = 7000;
            v.nodes.push_back(node);
        }
        return sign_vote(v, net.keys[1]);
    };
    auto small = vote_of(10);
    auto large = vote_of(1000);
    REQUIRE(small.size() <= net.authorities[0]->max_vote_bytes());
    REQUIRE(large.size() > net.authorities[0]->max_vote_bytes());
    for (auto& a : net.authorities) a->tick(kStart);
    CHECK(net.authorities[0]->take_vote(direct(large), kStart + 1) == VoteTaken::refused);
    CHECK(net.authorities[0]->take_vote(direct(small), kStart + 1) == VoteTaken::taken);
}

TEST_CASE("authority - a vote delivered at the edge of the first round reaches every honest authority", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    auto x = liar_decides(net, 4);
    net.up[2] = false;  // the liar relays nothing
    net.relay(kStart);
    // It gives its vote to authority 1 alone, just before the first round ends; authority 1
    // passes it on, and it reaches authority 2 after that round.
    const auto edge = kStart + kPeriodMs / 4;
    REQUIRE(net.authorities[0]->take_vote(direct(net.authorities[2]->vote_envelope()), edge) == VoteTaken::taken);
    net.relay(edge + 1);
    // Just before the middle it gives authority 2 another vote: too late to count without a voucher.
    Vote empty{p, net.keys[2].pub, {}};
    CHECK(net.authorities[1]->take_vote(direct(sign_vote(empty, net.keys[2])), kStart + kPeriodMs / 2 - 1) == VoteTaken::refused);
    for (std::size_t i : {0, 1}) net.authorities[i]->tick(kStart + kPeriodMs / 2);
    REQUIRE(net.authorities[0]->candidate());
    REQUIRE(net.authorities[1]->candidate());
    CHECK(net.authorities[0]->candidate()->body == net.authorities[1]->candidate()->body);
    CHECK(net.authorities[0]->candidate()->manifest.find(x.ed25519) != nullptr);
}

TEST_CASE("authority - a served body never changes within its version", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    net.votes_exchanged(3);
    net.authorities[0]->tick(kStart + kPeriodMs / 2);
    auto mine = net.authorities[0]->candidate()->manifest;
    // It fetches another body of version p that the two others signed, and serves it...
    auto other = mine;
    other.nodes.pop_back();
    std::vector<const SigningKeyPair*> two{&net.keys[1], &net.keys[2]};
    auto fetched = sign_manifest(other, two);
    REQUIRE(net.authorities[0]->take_manifest(fetched, kStart + 600));
    // ...then a signature completes its own body: it keeps serving the fetched one.
    std::vector<const SigningKeyPair*> one{&net.keys[2]};
    ConsensusSignature late{p, net.keys[2].pub, sign_manifest(mine, one).signatures[0].second};
    CHECK(net.authorities[0]->take_signature(late, kStart + 600) == SignatureTaken::taken);
    CHECK(net.served(0).body == fetched.body);
}

TEST_CASE("authority - it signs only when a threshold of votes named its previous consensus", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 6; ++i) net.add_node(kStart);
    net.up[2] = false;
    net.run_period(p);
    REQUIRE(net.served(0).signatures.size() == 2);
    // Authority 3 comes back without the consensus of p: its body would build on none.
    net.up[2] = true;
    net.run_period(p + 1);
    CHECK_FALSE(net.authorities[2]->own_signature());
    CHECK(net.served(0).manifest.version == p + 1);
    CHECK(net.served(0).body == net.served(1).body);
    // It fetches it, and the next period all three sign one body again.
    REQUIRE(net.authorities[2]->take_manifest(net.served(0), (p + 1) * kPeriodMs + 700));
    net.run_period(p + 2);
    CHECK(net.served(2).signatures.size() == 3);
    CHECK(net.served(2).body == net.served(0).body);
}

TEST_CASE("authority - it never votes twice for one period: not after a restart, not when the clock steps back", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    auto& a = *net.authorities[0];
    a.tick(kStart);
    a.tick(kStart + kPeriodMs);
    CHECK(a.voted() == std::map<std::uint64_t, std::uint64_t>{{p, p + 1}});
    a.tick(kStart + 10);  // the clock steps back a period
    CHECK(a.period() == p);
    CHECK(a.vote_envelope().empty());
    a.tick(kStart + 2 * kPeriodMs);
    CHECK_FALSE(a.vote_envelope().empty());
    // Restarted with what it persisted, within a period it voted for.
    AuthorityConfig c;
    c.consensus.period_ms = kPeriodMs;
    for (const auto& k : net.keys) c.authority_keys.push_back(k.pub);
    c.voted = a.voted();
    Authority again(net.keys[0], c);
    again.tick(kStart + 2 * kPeriodMs + 100);
    CHECK(again.vote_envelope().empty());
    again.tick(kStart + 3 * kPeriodMs);
    CHECK_FALSE(again.vote_envelope().empty());
    // A clock an hour ahead and back: the periods in between were never voted for.
    again.tick(kStart + 3600 * kPeriodMs);
    again.tick(kStart + 4 * kPeriodMs);
    CHECK_FALSE(again.vote_envelope().empty());
    CHECK(again.voted().size() == 2);
}

TEST_CASE("authority - a signature is taken only when it verifies over the body, once", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    net.votes_exchanged(3);
    net.authorities[1]->tick(kStart + kPeriodMs / 2);
    auto good = *net.authorities[1]->own_signature();
    // Authority 1 has not formed its consensus yet: the sender is told to come back.
    CHECK(net.authorities[0]->take_signature(good, kStart + 100) == SignatureTaken::not_ready);
    net.authorities[0]->tick(kStart + kPeriodMs / 2);
    // Anyone can send a signature in authority 2's name: a wrong one is refused, not stored.
    auto forged = good;
    forged.signature[0] ^= 1;
    CHECK(net.authorities[0]->take_signature(forged, kStart + 600) == SignatureTaken::refused);
    CHECK(net.authorities[0]->take_signature(good, kStart + 600) == SignatureTaken::taken);
    CHECK(net.authorities[0]->take_signature(forged, kStart + 600) == SignatureTaken::known);
    CHECK(net.authorities[0]->candidate()->signatures.size() == 2);
    CHECK(net.verifier().check(*net.authorities[0]->candidate(), kStart + 600) == ManifestCheck::ok);
    ConsensusSignature other_version{p + 1, good.authority, good.signature};
    CHECK(net.authorities[0]->take_signature(other_version, kStart + 600) == SignatureTaken::refused);
}

TEST_CASE("authority - authorities whose clocks ran an hour ahead recover when the clocks come back", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 3; ++i) net.add_node(kStart);
    net.run_period(p);
    const std::uint64_t ahead = p + 3600;
    for (const auto& k : net.node_keys) {
        NodeDescriptor d{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", net.served(0).manifest.find(k.pub)->port,
                         ahead * kPeriodMs};
        for (auto& a : net.authorities) REQUIRE(a->register_node(d, ahead * kPeriodMs) == RegisterResult::ok);
    }
    net.run_period(ahead);
    REQUIRE(net.served(0).manifest.version == ahead);
    // Back to the right time: a manifest of an hour ahead is dropped, the next period is signed.
    net.run_period(p + 1);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(net.served(i).manifest.version == p + 1);
        CHECK(net.served(i).signatures.size() == 3);
    }
    CHECK(net.verifier().check(net.served(0), (p + 1) * kPeriodMs + 600) == ManifestCheck::ok);
}

TEST_CASE("authority - a vote it holds costs no signature check again; relay signatures one per authority at most",
          "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (auto& a : net.authorities) a->tick(kStart);
    auto& a = *net.authorities[0];
    const auto& theirs = net.authorities[2]->vote_envelope();
    REQUIRE(a.take_vote(direct(theirs), kStart + 1) == VoteTaken::taken);
    auto checks = a.signature_checks();
    for (int i = 0; i < 20; ++i) CHECK(a.take_vote(direct(theirs), kStart + 1) == VoteTaken::known);
    CHECK(a.signature_checks() == checks);
    // Another period than now or the next, or a proven equivocator's third vote: no check either.
    CHECK(a.take_vote(direct(sign_vote(Vote{p + 5, net.keys[2].pub, {}}, net.keys[2])), kStart + 1) == VoteTaken::refused);
    auto second = sign_vote(Vote{p, net.keys[2].pub, {}, 7, {}}, net.keys[2]);  // names another previous
    REQUIRE(a.take_vote(direct(second), kStart + 1) == VoteTaken::equivocation);
    checks = a.signature_checks();
    net.add_node(kStart);
    for (std::uint16_t i = 0; i < 5; ++i) {
        Vote more{p, net.keys[2].pub, {{net.node_keys[0].pub, veil::crypto::ed25519_to_x25519(net.node_keys[0].pub), "127.0.0.1", static_cast<std::uint16_t>(9000 + i)}}};
        CHECK(a.take_vote(direct(sign_vote(more, net.keys[2])), kStart + 1) == VoteTaken::known);
    }
    CHECK(a.signature_checks() == checks);
    // Sixteen junk relay signatures in one authority's name: checked once.
    auto fresh = sign_vote(Vote{p, net.keys[1].pub, {}}, net.keys[1]);
    RelayedVote junk{fresh, {}};
    for (int i = 0; i < 16; ++i) junk.relays.emplace_back(net.keys[2].pub, veil::proto::Signature{});
    checks = a.signature_checks();
    CHECK(a.take_vote(junk, kStart + 1) == VoteTaken::taken);
    CHECK(a.signature_checks() == checks + 2);  // the vote, and authority 2's relay signature once
}

TEST_CASE("authority - a proven split heals on the lowest-digest body; an unproven one abstains", "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 4; ++i) net.add_node(kStart);
    // A past split: authorities 1 and 2 each serve another body of version p, each completed by
    // authority 3's signature (a liar, or a partition), then authority 3 is gone.
    const auto& params = net.authorities[0]->consensus_params();
    std::vector<Vote> none;
    auto one = form_consensus(none, p, nullptr, params);
    auto other = one;
    other.valid_until_ms += 1;  // any difference gives another body
    std::vector<SignedManifest> bodies;
    for (std::size_t i : {0, 1}) {
        std::vector<const SigningKeyPair*> signers{&net.keys[i], &net.keys[2]};
        bodies.push_back(sign_manifest(i == 0 ? one : other, signers));
        REQUIRE(net.authorities[i]->take_manifest(bodies.back(), kStart + 1));
    }
    REQUIRE(net.served(0).body != net.served(1).body);
    net.up[2] = false;
    // Neither holds the other's body yet: nothing proves the split, both abstain.
    net.run_period(p + 1);
    CHECK_FALSE(net.authorities[0]->own_signature());
    CHECK_FALSE(net.authorities[1]->own_signature());
    // They fetch each other's manifest: kept as proof, not served.
    CHECK_FALSE(net.authorities[0]->take_manifest(bodies[1], (p + 1) * kPeriodMs + 700));
    CHECK_FALSE(net.authorities[1]->take_manifest(bodies[0], (p + 1) * kPeriodMs + 700));
    CHECK(net.served(0).body == bodies[0].body);
    // Alone, with its own vote only, it still abstains: a body from fewer than threshold votes
    // lists nobody, and the liar's signature would complete it.
    net.up[1] = false;
    net.run_period(p + 2);
    CHECK_FALSE(net.authorities[0]->own_signature());
    net.up[1] = true;
    net.run_period(p + 3);
    // Both build on the body of lowest digest, from the same votes, and sign one body.
    REQUIRE(net.served(0).manifest.version == p + 3);
    REQUIRE(net.served(1).manifest.version == p + 3);
    CHECK(net.served(0).body == net.served(1).body);
    const auto& lowest = digest_of(bodies[0].body) < digest_of(bodies[1].body) ? one : other;
    auto expected = form_consensus(net.authorities[0]->counted_votes(), p + 3, &lowest, params);
    std::vector<const SigningKeyPair*> signer{&net.keys[0]};
    CHECK(sign_manifest(expected, signer).body == net.served(0).body);
    CHECK(net.served(0).manifest.nodes.size() == 4);
    // From then on they agree on the previous again.
    net.run_period(p + 4);
    CHECK(net.served(0).manifest.version == p + 4);
    CHECK(net.served(0).body == net.served(1).body);
}

TEST_CASE("authority - a liar naming junk while an honest authority is down cannot force a fresh build",
          "[node][authority]") {
    Network net(3);
    const std::uint64_t p = kStart / kPeriodMs;
    for (int i = 0; i < 4; ++i) net.add_node(kStart);
    net.run_period(p);
    REQUIRE(net.served(0).signatures.size() == 3);
    // Period p + 1: authority 2 is down; authority 3 votes naming a previous nobody signed.
    net.up[1] = false;
    net.up[2] = false;
    const std::uint64_t start = (p + 1) * kPeriodMs;
    net.authorities[0]->tick(start);
    Vote lie{p + 1, net.keys[2].pub, net.authorities[2]->registry().view(), p, Digest{}};
    lie.previous[0] = 0x42;
    REQUIRE(net.authorities[0]->take_vote(direct(sign_vote(lie, net.keys[2])), start) == VoteTaken::taken);
    net.authorities[0]->tick(start + kPeriodMs / 2);
    // Two votes, neither previous named twice, no proven split: it abstains (a body built from
    // none, completed by the liar's signature, would reassign every swarm).
    CHECK_FALSE(net.authorities[0]->own_signature());
    CHECK(net.served(0).manifest.version == p);
}
