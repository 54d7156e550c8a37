// Fuzzes what a client decodes and applies from a node's get_manifest diff answer. Beyond not
// crashing: a diff has one encoding (what decodes re-encodes to the same bytes), and whatever a
// diff makes of a fixed held manifest is a manifest the decoder accepts, whose body is exactly
// the canonical encoding the signatures are checked over.
#include "veil/proto/manifest_diff.hpp"

namespace {
namespace proto = veil::proto;
using veil::wire::Bytes;
using veil::wire::ByteView;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// Version 1: nodes whose keys are 01.., 02.., 03.. (the seeds remove and change them).
const proto::SignedManifest& held() {
    static const proto::SignedManifest m = [] {
        proto::SignedManifest s;
        s.manifest.version = 1;
        for (std::uint8_t i = 1; i <= 3; ++i) {
            proto::NodeEntry n;
            n.ed25519.fill(i);
            n.x25519.fill(i);
            n.host = "127.0.0.1";
            n.port = static_cast<std::uint16_t>(7000 + i);
            n.swarm = i;
            s.manifest.nodes.push_back(n);
        }
        s.body = proto::encode_manifest_body(s.manifest);
        return s;
    }();
    return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView in(data, size);
    proto::ManifestDiff diff;
    try {
        diff = proto::decode_manifest_diff(in);
    } catch (const veil::wire::DecodeError&) {
        return 0;
    }
    check(proto::encode_manifest_diff(diff) == Bytes(in.begin(), in.end()));
    try {
        auto next = proto::apply_manifest_diff(held(), diff);
        check(proto::encode_manifest_body(next.manifest) == next.body);
        check(proto::decode_manifest_body(next.body) == next.manifest);
        check(next.signatures == diff.signatures);
    } catch (const veil::wire::DecodeError&) {
    }
    return 0;
}
