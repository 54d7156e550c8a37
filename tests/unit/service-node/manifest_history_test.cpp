#include <catch2/catch.hpp>

#include "manifest_history.hpp"
#include "veil/proto/manifest_diff.hpp"

using namespace veil;
using node::ManifestHistory;
using proto::node::ManifestAnswer;

namespace {

void add_node(std::vector<proto::NodeEntry>& nodes) {
    auto k = crypto::SigningKeyPair::generate();
    nodes.push_back({k.pub, crypto::ed25519_to_x25519(k.pub), "127.0.0.1", static_cast<std::uint16_t>(7000 + nodes.size()), 0});
}

// Version v: one node more than the version before.
std::shared_ptr<const proto::SignedManifest> version(std::uint64_t v, std::vector<proto::NodeEntry>& nodes,
                                                     const crypto::SigningKeyPair& auth) {
    add_node(nodes);
    proto::Manifest m;
    m.version = v;
    m.nodes = nodes;
    std::vector<const crypto::SigningKeyPair*> keys{&auth};
    return std::make_shared<const proto::SignedManifest>(proto::sign_manifest(m, keys));
}

}  // namespace

TEST_CASE("manifest history - current, a diff that rebuilds the manifest, or the whole one", "[node][manifest]") {
    auto auth = crypto::SigningKeyPair::generate();
    std::vector<proto::NodeEntry> nodes;
    ManifestHistory h;
    std::vector<std::shared_ptr<const proto::SignedManifest>> all;
    // Enough nodes that a one-node diff is smaller than the manifest.
    for (int i = 0; i < 30; ++i) add_node(nodes);
    for (std::uint64_t v = 1; v <= ManifestHistory::kKept + 2; ++v) {
        all.push_back(version(v, nodes, auth));
        h.add(all.back(), all.back()->encode());
    }
    const auto& current = *all.back();
    CHECK(h.answer(std::nullopt).kind == ManifestAnswer::full);
    CHECK(h.answer(std::nullopt).envelope == current.encode());
    CHECK(h.answer(current.manifest.version).kind == ManifestAnswer::current);
    // The oldest kept version but the current: a diff that rebuilds the current manifest.
    auto base = all[all.size() - ManifestHistory::kKept];
    auto d = h.answer(base->manifest.version);
    REQUIRE(d.kind == ManifestAnswer::diff);
    CHECK(d.diff.size() < current.encode().size());
    auto rebuilt = proto::apply_manifest_diff(*base, proto::decode_manifest_diff(d.diff));
    CHECK(rebuilt.body == current.body);
    CHECK(h.answer(base->manifest.version).diff == d.diff);  // from the cache, the same bytes
    // Versions no longer kept, or never seen: the whole manifest.
    CHECK(h.answer(all.front()->manifest.version).kind == ManifestAnswer::full);
    CHECK(h.answer(999).kind == ManifestAnswer::full);
}
