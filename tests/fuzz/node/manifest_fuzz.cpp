// Fuzzes the directory's formats: the signed manifest envelope (with verification against a fixed
// authority), the signed node descriptor, an authority's signed vote (and as relayed, with relay
// signatures; its header as read before the signature check) and consensus signature, and
// the directory RPC request and responses. Beyond not
// crashing: a manifest body and envelope have one encoding (what decodes re-encodes to the same
// bytes, so two different signed bodies never mean the same manifest), and the directory RPC
// codec re-encodes what it decoded to bytes that decode to the same bytes again.
#include <algorithm>

#include "veil/proto/directory_rpc.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/proto/vote.hpp"

namespace {
namespace proto = veil::proto;
using veil::wire::Bytes;
using veil::wire::ByteView;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

template <class Decode, class Encode>
void check_round_trip(ByteView in, Decode decode, Encode encode) {
    Bytes once;
    try {
        once = encode(decode(in));
    } catch (const veil::wire::DecodeError&) {
        return;
    }
    check(encode(decode(once)) == once);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView in(data, size);
    static const proto::ManifestVerifier verifier({proto::PublicKey{1}}, 1);
    try {
        auto m = proto::decode_signed_manifest(in);
        (void)verifier.check(m, 0);
        (void)m.manifest.swarm_ids();
        (void)m.manifest.swarm_for(proto::PublicKey{});
        check(m.encode() == Bytes(in.begin(), in.end()));
        check(proto::encode_manifest_body(m.manifest) == m.body);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        check(proto::encode_manifest_body(proto::decode_manifest_body(in)) == Bytes(in.begin(), in.end()));
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)proto::decode_verified_descriptor(in);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto v = proto::decode_verified_vote(in);
        check(std::is_sorted(v.nodes.begin(), v.nodes.end()));
        // What the authority reads before the signature check is what the check covers.
        auto h = proto::peek_vote(in);
        check(h.period == v.period && h.authority == v.authority);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)proto::peek_vote(in);
    } catch (const veil::wire::DecodeError&) {
    }
    check_round_trip(in, proto::decode_relayed_vote, proto::encode_relayed_vote);
    try {
        auto r = proto::decode_relayed_vote(in);
        for (const auto& [k, sig] : r.relays) (void)proto::relay_signature_valid(r.envelope, k, sig);
    } catch (const veil::wire::DecodeError&) {
    }
    check_round_trip(in, proto::decode_consensus_signature, proto::encode_consensus_signature);
    check_round_trip(in, proto::decode_directory_request, proto::encode_directory_request);
    for (auto kind : {proto::DirectoryKind::register_node, proto::DirectoryKind::get_manifest,
                      proto::DirectoryKind::post_vote, proto::DirectoryKind::post_signature,
                      proto::DirectoryKind::offer_vote}) {
        check_round_trip(in, [&](ByteView b) { return proto::decode_directory_response(kind, b); },
                         [&](const proto::DirectoryResponse& r) { return proto::encode_directory_response(kind, r); });
    }
    return 0;
}
