#include "veil/proto/manifest.hpp"

#include "node_entry_codec.hpp"

#include <algorithm>
#include <stdexcept>

#include <sodium.h>

#include "veil/crypto/error.hpp"
#include "veil/proto/swarm.hpp"

namespace veil::proto {

namespace {

constexpr std::string_view kManifestDomain = "veil-manifest-v1";
constexpr std::string_view kDescriptorDomain = "veil-node-descriptor-v1";
constexpr std::uint8_t kFormat = 1;          // envelope and descriptor
constexpr std::uint8_t kBodyFormat = 2;      // 2: valid_until_ms and the network parameters

wire::Bytes with_domain(std::string_view domain, wire::ByteView body) {
    wire::Bytes out(domain.begin(), domain.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}


}  // namespace

void check_node_address(const std::string& host, std::uint16_t port) {
    if (host.empty()) throw wire::DecodeError("node address: empty host");
    if (port == 0) throw wire::DecodeError("node address: port 0");
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':';
        if (!ok) throw wire::DecodeError("node address: bad character in host");
    }
}


std::vector<SwarmId> Manifest::swarm_ids() const {
    std::vector<SwarmId> ids;
    for (const auto& n : nodes) ids.push_back(n.swarm);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

std::vector<NodeEntry> Manifest::members(SwarmId swarm) const {
    std::vector<NodeEntry> out;
    for (const auto& n : nodes)
        if (n.swarm == swarm) out.push_back(n);
    return out;
}

const NodeEntry* Manifest::find(const PublicKey& ed25519) const {
    auto it = std::lower_bound(nodes.begin(), nodes.end(), ed25519,
                               [](const NodeEntry& n, const PublicKey& k) { return n.ed25519 < k; });
    return it != nodes.end() && it->ed25519 == ed25519 ? &*it : nullptr;
}

SwarmId Manifest::swarm_for(const PublicKey& mailbox) const {
    auto ids = swarm_ids();
    return swarm_for_mailbox(ids, mailbox);
}

wire::Bytes encode_manifest_body(const Manifest& m) {
    wire::Writer w;
    w.u8(kBodyFormat).u64(m.version).u64(m.issued_ms).u64(m.valid_until_ms);
    w.u8(m.test_network ? 1 : 0).u16(m.max_nodes_per_block).u32(static_cast<std::uint32_t>(m.nodes.size()));
    for (const auto& n : m.nodes) detail::put_node_entry(w, n);
    return w.take();
}

Manifest decode_manifest_body(wire::ByteView body) {
    wire::Reader r(body);
    if (r.u8() != kBodyFormat) throw wire::DecodeError("manifest: unknown format");
    Manifest m;
    m.version = r.u64();
    m.issued_ms = r.u64();
    m.valid_until_ms = r.u64();
    std::uint8_t test_network = r.u8();
    if (test_network > 1) throw wire::DecodeError("manifest: test_network is not a boolean");
    m.test_network = test_network == 1;
    m.max_nodes_per_block = r.u16();
    std::uint32_t count = r.u32();
    if (count > kMaxManifestNodes) throw wire::DecodeError("manifest: too many nodes");
    if (count > r.remaining() / detail::kMinNodeEntryBytes) throw wire::DecodeError("manifest: truncated node list");
    m.nodes.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto n = detail::get_node_entry(r);
        check_node_address(n.host, n.port);
        if (n.swarm == kInvalidSwarm) throw wire::DecodeError("manifest: reserved swarm id");
        if (!m.nodes.empty() && !(m.nodes.back().ed25519 < n.ed25519))
            throw wire::DecodeError("manifest: nodes not sorted or duplicated");
        m.nodes.push_back(std::move(n));
    }
    r.expect_done();
    return m;
}

wire::Bytes SignedManifest::encode() const {
    wire::Writer w;
    w.u8(kFormat).var(body).u8(static_cast<std::uint8_t>(signatures.size()));
    for (const auto& [pk, sig] : signatures) w.raw(pk).raw(sig);
    return w.take();
}

wire::Bytes manifest_signed_bytes(wire::ByteView body) { return with_domain(kManifestDomain, body); }

bool manifest_getting_old(const Manifest& m, std::uint64_t now_ms) {
    if (m.valid_until_ms <= m.issued_ms) return true;
    return now_ms + (m.valid_until_ms - m.issued_ms) / 4 >= m.valid_until_ms;
}

SignedManifest sign_manifest(const Manifest& m, std::span<const crypto::SigningKeyPair* const> keys) {
    if (keys.size() > kMaxManifestSignatures) throw std::invalid_argument("manifest: too many signers");
    SignedManifest s;
    s.manifest = m;
    std::sort(s.manifest.nodes.begin(), s.manifest.nodes.end(),
              [](const NodeEntry& a, const NodeEntry& b) { return a.ed25519 < b.ed25519; });
    s.body = encode_manifest_body(s.manifest);
    auto signed_bytes = manifest_signed_bytes(s.body);
    for (const crypto::SigningKeyPair* k : keys) s.signatures.emplace_back(k->pub, k->sign(signed_bytes));
    return s;
}

SignedManifest decode_signed_manifest(wire::ByteView envelope) {
    wire::Reader r(envelope);
    if (r.u8() != kFormat) throw wire::DecodeError("manifest envelope: unknown format");
    SignedManifest s;
    auto body = r.var(kMaxManifestBodyBytes);
    s.body.assign(body.begin(), body.end());
    std::uint8_t n = r.u8();
    if (n > kMaxManifestSignatures) throw wire::DecodeError("manifest envelope: too many signatures");
    for (std::uint8_t i = 0; i < n; ++i) {
        auto pk = wire::to_array<32>(r.raw(32));
        auto sig = wire::to_array<64>(r.raw(64));
        s.signatures.emplace_back(pk, sig);
    }
    r.expect_done();
    s.manifest = decode_manifest_body(s.body);
    return s;
}

ManifestVerifier::ManifestVerifier(std::vector<PublicKey> authorities, std::size_t threshold)
    : authorities_(std::move(authorities)) {
    std::sort(authorities_.begin(), authorities_.end());
    authorities_.erase(std::unique(authorities_.begin(), authorities_.end()), authorities_.end());
    if (authorities_.empty()) throw std::invalid_argument("manifest verifier: no authority keys");
    auto majority = majority_of(authorities_.size());
    if (threshold != 0 && threshold < majority)
        throw std::invalid_argument("authority_threshold " + std::to_string(threshold) + " is below a majority of the " +
                                    std::to_string(authorities_.size()) + " authority keys (at least " +
                                    std::to_string(majority) + ", or 0 for that default)");
    threshold_ = threshold == 0 ? majority : std::min(threshold, authorities_.size());
}

AuthoritySet read_authority_set(std::string_view table, const std::vector<std::string>& hex_keys, std::int64_t threshold) {
    auto fail = [table](const std::string& why) { return std::invalid_argument(std::string(table) + "." + why); };
    AuthoritySet out;
    for (const auto& hex : hex_keys) {
        auto raw = wire::from_hex(hex);
        if (raw.size() != 32) throw fail("authority_keys: each key is 64 hex digits");
        out.keys.push_back(wire::to_array<32>(raw));
    }
    if (out.keys.empty()) throw fail("authority_keys: at least one key is needed");
    if (threshold < 0) throw fail("authority_threshold must not be negative");
    out.threshold = static_cast<std::size_t>(threshold);
    try {
        (void)ManifestVerifier(out.keys, out.threshold);  // below a majority: refused
    } catch (const std::invalid_argument& e) {
        throw fail(e.what());
    }
    return out;
}

Digest digest_of(wire::ByteView bytes) {
    Digest d{};
    crypto_generichash(d.data(), d.size(), bytes.data(), bytes.size(), nullptr, 0);
    return d;
}

std::size_t ManifestVerifier::valid_signatures(const SignedManifest& m) const {
    auto signed_bytes = manifest_signed_bytes(m.body);
    std::vector<PublicKey> good;
    for (const auto& [pk, sig] : m.signatures) {
        if (!std::binary_search(authorities_.begin(), authorities_.end(), pk)) continue;
        if (std::find(good.begin(), good.end(), pk) != good.end()) continue;  // one vote per key
        if (crypto::verify_signature(pk, signed_bytes, sig)) good.push_back(pk);
    }
    return good.size();
}

ManifestCheck ManifestVerifier::check(const SignedManifest& m, std::uint64_t now_ms) const {
    if (m.manifest.version < accepted_version_) return ManifestCheck::old_version;
    if (valid_signatures(m) < threshold_) return ManifestCheck::too_few_signatures;
    if (now_ms > m.manifest.valid_until_ms) return ManifestCheck::expired;
    if (m.manifest.issued_ms > now_ms + kMaxClockSkewMs) return ManifestCheck::from_future;
    if (accepted_version_ != 0 && m.manifest.version == accepted_version_ && digest_of(m.body) != accepted_body_)
        return ManifestCheck::conflicting_body;
    return ManifestCheck::ok;
}

ManifestCheck ManifestVerifier::accept(const SignedManifest& m, std::uint64_t now_ms) {
    auto c = check(m, now_ms);
    if (c != ManifestCheck::ok) return c;
    accepted_version_ = m.manifest.version;
    accepted_body_ = digest_of(m.body);
    return c;
}

const char* to_string(ManifestCheck c) {
    switch (c) {
        case ManifestCheck::ok: return "ok";
        case ManifestCheck::too_few_signatures: return "manifest not signed by enough configured authorities";
        case ManifestCheck::old_version: return "manifest version lower than the one already accepted";
        case ManifestCheck::expired: return "manifest expired (the authorities issued no newer one in time)";
        case ManifestCheck::from_future: return "manifest issued in the future (a clock is wrong)";
        case ManifestCheck::conflicting_body: return "another manifest of the accepted version (authorities equivocated)";
    }
    return "unknown";
}

namespace {
// True when x25519 is the conversion of the Ed25519 key (false for a key that is no point).
bool x25519_matches(const PublicKey& ed25519, const PublicKey& x25519) {
    try {
        return crypto::ed25519_to_x25519(ed25519) == x25519;
    } catch (const crypto::Error&) {
        return false;
    }
}

wire::Bytes descriptor_body(const NodeDescriptor& d) {
    return wire::Writer{}.u8(kFormat).raw(d.ed25519).raw(d.x25519).str(d.host).u16(d.port).u64(d.timestamp_ms).take();
}
}  // namespace

wire::Bytes sign_descriptor(const NodeDescriptor& d, const crypto::SigningKeyPair& key) {
    if (d.ed25519 != key.pub) throw std::invalid_argument("descriptor: key does not match");
    auto body = descriptor_body(d);
    auto sig = key.sign(with_domain(kDescriptorDomain, body));
    return wire::Writer{}.var(body).raw(sig).take();
}

NodeDescriptor decode_verified_descriptor(wire::ByteView envelope) {
    wire::Reader outer(envelope);
    auto body = outer.var(32 + 32 + 4 + kMaxHostBytes + 2 + 8 + 1);
    auto sig = wire::to_array<64>(outer.raw(64));
    outer.expect_done();
    wire::Reader r(body);
    if (r.u8() != kFormat) throw wire::DecodeError("descriptor: unknown format");
    NodeDescriptor d;
    d.ed25519 = wire::to_array<32>(r.raw(32));
    d.x25519 = wire::to_array<32>(r.raw(32));
    d.host = r.str(kMaxHostBytes);
    d.port = r.u16();
    d.timestamp_ms = r.u64();
    r.expect_done();
    check_node_address(d.host, d.port);
    if (!crypto::verify_signature(d.ed25519, with_domain(kDescriptorDomain, body), sig))
        throw wire::DecodeError("descriptor: bad signature");
    if (!x25519_matches(d.ed25519, d.x25519))
        throw wire::DecodeError("descriptor: x25519 key is not derived from the ed25519 key");
    return d;
}

}  // namespace veil::proto
