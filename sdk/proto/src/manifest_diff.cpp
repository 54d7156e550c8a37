#include "veil/proto/manifest_diff.hpp"

#include "node_entry_codec.hpp"

#include <algorithm>
#include <map>

namespace veil::proto {

namespace {

constexpr std::uint8_t kDiffFormat = 1;
}  // namespace

ManifestDiff make_manifest_diff(const Manifest& from, const SignedManifest& to) {
    ManifestDiff d;
    d.from_version = from.version;
    Manifest header = to.manifest;
    header.nodes.clear();
    d.header = encode_manifest_body(header);
    // Both node lists are sorted by key: one merge pass.
    auto a = from.nodes.begin();
    auto b = to.manifest.nodes.begin();
    while (a != from.nodes.end() || b != to.manifest.nodes.end()) {
        if (b == to.manifest.nodes.end() || (a != from.nodes.end() && a->ed25519 < b->ed25519)) {
            d.removed.push_back((a++)->ed25519);
        } else if (a == from.nodes.end() || b->ed25519 < a->ed25519) {
            d.upserted.push_back(*b++);
        } else {
            if (!(*a == *b)) d.upserted.push_back(*b);
            ++a;
            ++b;
        }
    }
    d.signatures = to.signatures;
    return d;
}

wire::Bytes encode_manifest_diff(const ManifestDiff& d) {
    wire::Writer w;
    w.u8(kDiffFormat).u64(d.from_version).var(d.header).u32(static_cast<std::uint32_t>(d.removed.size()));
    for (const auto& k : d.removed) w.raw(k);
    w.u32(static_cast<std::uint32_t>(d.upserted.size()));
    for (const auto& n : d.upserted) detail::put_node_entry(w, n);
    w.u8(static_cast<std::uint8_t>(d.signatures.size()));
    for (const auto& [pk, sig] : d.signatures) w.raw(pk).raw(sig);
    return w.take();
}

ManifestDiff decode_manifest_diff(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kDiffFormat) throw wire::DecodeError("manifest diff: unknown format");
    ManifestDiff d;
    d.from_version = r.u64();
    auto header = r.var(kMaxManifestBodyBytes);
    d.header.assign(header.begin(), header.end());
    std::uint32_t removed = r.u32();
    if (removed > kMaxManifestNodes || removed > r.remaining() / 32) throw wire::DecodeError("manifest diff: bad removed count");
    for (std::uint32_t i = 0; i < removed; ++i) {
        auto k = wire::to_array<32>(r.raw(32));
        if (!d.removed.empty() && !(d.removed.back() < k)) throw wire::DecodeError("manifest diff: removed keys not sorted");
        d.removed.push_back(k);
    }
    std::uint32_t upserted = r.u32();
    if (upserted > kMaxManifestNodes || upserted > r.remaining() / detail::kMinNodeEntryBytes)
        throw wire::DecodeError("manifest diff: bad node count");
    for (std::uint32_t i = 0; i < upserted; ++i) {
        auto n = detail::get_node_entry(r);
        if (!d.upserted.empty() && !(d.upserted.back().ed25519 < n.ed25519))
            throw wire::DecodeError("manifest diff: nodes not sorted");
        d.upserted.push_back(std::move(n));
    }
    std::uint8_t sigs = r.u8();
    if (sigs > kMaxManifestSignatures) throw wire::DecodeError("manifest diff: too many signatures");
    for (std::uint8_t i = 0; i < sigs; ++i) {
        auto pk = wire::to_array<32>(r.raw(32));
        auto sig = wire::to_array<64>(r.raw(64));
        d.signatures.emplace_back(pk, sig);
    }
    r.expect_done();
    return d;
}

SignedManifest apply_manifest_diff(const SignedManifest& held, const ManifestDiff& diff) {
    if (diff.from_version != held.manifest.version) throw wire::DecodeError("manifest diff: another base version");
    Manifest next = decode_manifest_body(diff.header);
    if (!next.nodes.empty()) throw wire::DecodeError("manifest diff: header lists nodes");
    std::map<PublicKey, NodeEntry> nodes;
    for (const auto& n : held.manifest.nodes) nodes.emplace(n.ed25519, n);
    for (const auto& k : diff.removed)
        if (nodes.erase(k) == 0) throw wire::DecodeError("manifest diff: removes a node the held manifest lacks");
    for (const auto& n : diff.upserted) nodes.insert_or_assign(n.ed25519, n);
    if (nodes.size() > kMaxManifestNodes) throw wire::DecodeError("manifest diff: too many nodes");
    for (auto& [key, n] : nodes) next.nodes.push_back(std::move(n));
    SignedManifest out;
    out.body = encode_manifest_body(next);
    out.manifest = decode_manifest_body(out.body);  // the decoder's checks apply to the result
    out.signatures = diff.signatures;
    return out;
}

}  // namespace veil::proto
