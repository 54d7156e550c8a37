#include <catch2/catch.hpp>

#include "veil/proto/directory_rpc.hpp"
#include "veil/proto/vote.hpp"

using namespace veil::proto;
using veil::wire::DecodeError;

namespace {
VotedNode node(std::uint16_t port) {
    auto k = veil::crypto::SigningKeyPair::generate();
    return VotedNode{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port};
}
}  // namespace

TEST_CASE("vote - a signed vote round-trips; a tampered or misattributed one is refused", "[node][vote]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    Vote v{42, auth.pub, {node(7001), node(7002), node(7003)}};
    auto envelope = sign_vote(v, auth);
    auto back = decode_verified_vote(envelope);
    CHECK(back.period == 42);
    CHECK(back.authority == auth.pub);
    REQUIRE(back.nodes.size() == 3);
    CHECK(std::is_sorted(back.nodes.begin(), back.nodes.end()));
    // Flip a byte of the body (the period): the signature no longer verifies.
    auto tampered = envelope;
    tampered[4 + 1] ^= 1;
    CHECK_THROWS_AS(decode_verified_vote(tampered), DecodeError);
    // Another authority cannot sign a vote in this one's name.
    auto other = veil::crypto::SigningKeyPair::generate();
    CHECK_THROWS(sign_vote(v, other));
    CHECK_THROWS_AS(decode_verified_vote(veil::wire::Bytes(envelope.begin(), envelope.end() - 1)), DecodeError);
}

TEST_CASE("vote - consensus signatures and the authority RPC kinds round-trip", "[node][vote]") {
    ConsensusSignature s{9, PublicKey{}, Signature{}};
    s.authority.fill(3);
    s.signature.fill(4);
    CHECK(decode_consensus_signature(encode_consensus_signature(s)) == s);
    CHECK_THROWS_AS(decode_consensus_signature(veil::wire::Bytes(10, 0)), DecodeError);
    DirectoryRequest post{DirectoryKind::post_signature, {}, encode_consensus_signature(s)};
    auto back = decode_directory_request(encode_directory_request(post));
    CHECK(back.kind == DirectoryKind::post_signature);
    CHECK(back.body == post.body);
    DirectoryRequest vote{DirectoryKind::post_vote, {}, {1, 2, 3}};
    CHECK(decode_directory_request(encode_directory_request(vote)).body == vote.body);
    // get_manifest names the version held (authorities) or nothing (nodes: as before).
    DirectoryRequest fetch{DirectoryKind::get_manifest, {}, {}, 41};
    CHECK(decode_directory_request(encode_directory_request(fetch)).held_version == 41);
    DirectoryRequest plain{DirectoryKind::get_manifest, {}, {}};
    CHECK(encode_directory_request(plain).size() == 2);
    CHECK(decode_directory_request(encode_directory_request(plain)).held_version == 0);
    auto zero = encode_directory_request(plain);
    zero.resize(10, 0);  // an explicit 0 would not round-trip
    CHECK_THROWS_AS(decode_directory_request(zero), DecodeError);
    auto current = encode_directory_response(DirectoryKind::get_manifest, {DirectoryStatus::current, {}, "not newer"});
    CHECK(decode_directory_response(DirectoryKind::get_manifest, current).status == DirectoryStatus::current);
}

TEST_CASE("vote - the previous consensus it names and its relay signatures round-trip", "[node][vote]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    Vote v{43, auth.pub, {node(7001)}, 42, Digest{}};
    v.previous.fill(7);
    auto envelope = sign_vote(v, auth);
    CHECK(decode_verified_vote(envelope) == v);
    auto relay = veil::crypto::SigningKeyPair::generate();
    RelayedVote r{envelope, {{relay.pub, sign_relay(envelope, relay)}}};
    auto back = decode_relayed_vote(encode_relayed_vote(r));
    CHECK(back == r);
    CHECK(relay_signature_valid(envelope, relay.pub, back.relays[0].second));
    CHECK_FALSE(relay_signature_valid(envelope, auth.pub, back.relays[0].second));  // not the author's
    auto other = sign_vote(Vote{43, auth.pub, {}, 42, v.previous}, auth);
    CHECK_FALSE(relay_signature_valid(other, relay.pub, back.relays[0].second));     // not that vote's
    // A relay count above the limit, or a truncated list, does not decode.
    auto bytes = encode_relayed_vote(r);
    CHECK_THROWS_AS(decode_relayed_vote(veil::wire::Bytes(bytes.begin(), bytes.end() - 1)), DecodeError);
    bytes[4 + envelope.size()] = static_cast<std::uint8_t>(kMaxVoteRelays + 1);
    CHECK_THROWS_AS(decode_relayed_vote(bytes), DecodeError);
}
