#include "veil/proto/vote.hpp"

#include <algorithm>
#include <stdexcept>

namespace veil::proto {

namespace {

constexpr std::string_view kVoteDomain = "veil-vote-v2";
constexpr std::string_view kRelayDomain = "veil-vote-relay-v1";
constexpr std::uint8_t kVoteFormat = 2;
constexpr std::size_t kMinNodeBytes = 32 + 32 + 4 + 1 + 2;  // a one-character host

wire::Bytes vote_body(const Vote& v) {
    wire::Writer w;
    w.u8(kVoteFormat).u64(v.period).raw(v.authority).u64(v.previous_version).raw(v.previous).u32(static_cast<std::uint32_t>(v.nodes.size()));
    for (const auto& n : v.nodes) w.raw(n.ed25519).raw(n.x25519).str(n.host).u16(n.port);
    return w.take();
}

wire::Bytes domain_bytes(std::string_view domain, wire::ByteView body) {
    wire::Writer w;
    w.raw(wire::ByteView(reinterpret_cast<const std::uint8_t*>(domain.data()), domain.size())).raw(body);
    return w.take();
}

wire::Bytes signed_bytes(wire::ByteView body) { return domain_bytes(kVoteDomain, body); }

wire::Bytes relay_bytes(wire::ByteView envelope) { return domain_bytes(kRelayDomain, digest_of(envelope)); }

}  // namespace

wire::Bytes sign_vote(Vote vote, const crypto::SigningKeyPair& key) {
    if (vote.authority != key.pub) throw std::invalid_argument("vote: key does not match");
    if (vote.nodes.size() > kMaxManifestNodes) throw std::invalid_argument("vote: too many nodes");
    std::sort(vote.nodes.begin(), vote.nodes.end());
    auto body = vote_body(vote);
    auto sig = key.sign(signed_bytes(body));
    return wire::Writer{}.var(body).raw(sig).take();
}

Vote decode_verified_vote(wire::ByteView envelope) {
    wire::Reader outer(envelope);
    auto body = outer.var(kMaxManifestBodyBytes);
    auto sig = wire::to_array<64>(outer.raw(64));
    outer.expect_done();
    wire::Reader r(body);
    if (r.u8() != kVoteFormat) throw wire::DecodeError("vote: unknown format");
    Vote v;
    v.period = r.u64();
    v.authority = wire::to_array<32>(r.raw(32));
    v.previous_version = r.u64();
    v.previous = wire::to_array<32>(r.raw(32));
    std::uint32_t count = r.u32();
    if (count > kMaxManifestNodes) throw wire::DecodeError("vote: too many nodes");
    if (count > r.remaining() / kMinNodeBytes) throw wire::DecodeError("vote: truncated node list");
    v.nodes.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        VotedNode n;
        n.ed25519 = wire::to_array<32>(r.raw(32));
        n.x25519 = wire::to_array<32>(r.raw(32));
        n.host = r.str(kMaxHostBytes);
        n.port = r.u16();
        check_node_address(n.host, n.port);
        if (!v.nodes.empty() && !(v.nodes.back().ed25519 < n.ed25519))
            throw wire::DecodeError("vote: nodes not sorted or duplicated");
        v.nodes.push_back(std::move(n));
    }
    r.expect_done();
    if (!crypto::verify_signature(v.authority, signed_bytes(body), sig)) throw wire::DecodeError("vote: bad signature");
    return v;
}

VoteHeader peek_vote(wire::ByteView envelope) {
    wire::Reader outer(envelope);
    wire::Reader r(outer.var(kMaxManifestBodyBytes));
    if (r.u8() != kVoteFormat) throw wire::DecodeError("vote: unknown format");
    VoteHeader h;
    h.period = r.u64();
    h.authority = wire::to_array<32>(r.raw(32));
    return h;
}

wire::Bytes encode_relayed_vote(const RelayedVote& v) {
    if (v.relays.size() > kMaxVoteRelays) throw std::invalid_argument("relayed vote: too many relay signatures");
    wire::Writer w;
    w.var(v.envelope).u8(static_cast<std::uint8_t>(v.relays.size()));
    for (const auto& [k, sig] : v.relays) w.raw(k).raw(sig);
    return w.take();
}

RelayedVote decode_relayed_vote(wire::ByteView b) {
    wire::Reader r(b);
    RelayedVote v;
    auto envelope = r.var(kMaxManifestBodyBytes + 64 + 8);
    v.envelope.assign(envelope.begin(), envelope.end());
    std::size_t count = r.u8();
    if (count > kMaxVoteRelays) throw wire::DecodeError("relayed vote: too many relay signatures");
    for (std::size_t i = 0; i < count; ++i) {
        auto k = wire::to_array<32>(r.raw(32));
        v.relays.emplace_back(k, wire::to_array<64>(r.raw(64)));
    }
    r.expect_done();
    return v;
}

Signature sign_relay(wire::ByteView envelope, const crypto::SigningKeyPair& key) { return key.sign(relay_bytes(envelope)); }

bool relay_signature_valid(wire::ByteView envelope, const PublicKey& authority, const Signature& sig) {
    return crypto::verify_signature(authority, relay_bytes(envelope), sig);
}

wire::Bytes encode_consensus_signature(const ConsensusSignature& s) {
    return wire::Writer{}.u64(s.version).raw(s.authority).raw(s.signature).take();
}

ConsensusSignature decode_consensus_signature(wire::ByteView b) {
    wire::Reader r(b);
    ConsensusSignature s;
    s.version = r.u64();
    s.authority = wire::to_array<32>(r.raw(32));
    s.signature = wire::to_array<64>(r.raw(64));
    r.expect_done();
    return s;
}

}  // namespace veil::proto
