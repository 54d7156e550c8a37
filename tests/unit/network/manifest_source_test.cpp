// ManifestSource: what a client does with a node's get_manifest answer (whole, current, diff).
#include <catch2/catch.hpp>

#include "manifest_source.hpp"
#include "support/loop.hpp"
#include "veil/proto/manifest_diff.hpp"

using namespace veil;
using proto::node::ManifestAnswer;
using proto::node::ManifestResponse;

namespace {

proto::SignedManifest signed_version(std::uint64_t v, const std::vector<proto::NodeEntry>& nodes,
                                     const crypto::SigningKeyPair& auth) {
    proto::Manifest m;
    m.version = v;
    m.valid_until_ms = UINT64_MAX;  // never expires: these tests are about diffs
    m.nodes = nodes;
    std::vector<const crypto::SigningKeyPair*> keys{&auth};
    return proto::sign_manifest(m, keys);
}

proto::NodeEntry entry(std::uint16_t port) {
    auto k = crypto::SigningKeyPair::generate();
    return {k.pub, crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port, 0};
}

}  // namespace

TEST_CASE("manifest source - a diff rebuilds the next manifest; a forged diff is refused", "[node][network]") {
    test::TestLoop loop;
    auto auth = crypto::SigningKeyPair::generate();
    std::vector<proto::NodeEntry> nodes;
    for (std::uint16_t i = 0; i < 10; ++i) nodes.push_back(entry(static_cast<std::uint16_t>(7000 + i)));
    auto v1 = signed_version(1, nodes, auth);
    nodes.push_back(entry(7100));
    auto v2 = signed_version(2, nodes, auth);
    std::vector<std::uint64_t> accepted;
    {
        network::ManifestSource source(loop.get(), {{}, {auth.pub}, 1},
                                       [&](const proto::SignedManifest& m, const wire::Bytes&) { accepted.push_back(m.manifest.version); });
        // Nothing held: only a whole manifest helps.
        CHECK(source.take(ManifestResponse{{}, ManifestAnswer::current, {}}));
        REQUIRE_FALSE(source.take(ManifestResponse{v1.encode(), ManifestAnswer::full, {}}));
        CHECK_FALSE(source.take(ManifestResponse{{}, ManifestAnswer::current, {}}));

        SECTION("a diff whose rebuilt body carries valid signatures is accepted") {
            auto diff = proto::encode_manifest_diff(proto::make_manifest_diff(v1.manifest, v2));
            CHECK_FALSE(source.take(ManifestResponse{{}, ManifestAnswer::diff, diff}));
            CHECK(source.version() == 2);
            CHECK(source.envelope() == v2.encode());  // the same envelope a whole fetch gives
        }
        SECTION("a diff that slips in a node is refused, and the held manifest stays") {
            auto forged = proto::make_manifest_diff(v1.manifest, v2);
            forged.upserted.front().port = 6379;
            auto refused = source.take(ManifestResponse{{}, ManifestAnswer::diff, proto::encode_manifest_diff(forged)});
            REQUIRE(refused);
            CHECK(source.version() == 1);
        }
        SECTION("a diff from another base is refused") {
            auto other = proto::make_manifest_diff(v1.manifest, v2);
            other.from_version = 7;
            CHECK(source.take(ManifestResponse{{}, ManifestAnswer::diff, proto::encode_manifest_diff(other)}));
            CHECK(source.version() == 1);
        }
    }
}

TEST_CASE("manifest source - a node answering \"current\" does not end a refresh: the others are asked",
          "[node][network]") {
    test::TestLoop loop;
    auto auth = crypto::SigningKeyPair::generate();
    std::vector<proto::NodeEntry> nodes;
    for (std::uint16_t i = 0; i < 10; ++i) nodes.push_back(entry(static_cast<std::uint16_t>(7000 + i)));
    auto v1 = signed_version(1, nodes, auth);
    auto v2 = signed_version(2, nodes, auth);
    network::ManifestSource source(loop.get(), {{}, {auth.pub}, 1}, {});
    REQUIRE_FALSE(source.offer(v1.encode()));
    // The first nodes asked are behind (or lie) and say "current"; the last has version 2.
    std::size_t asked = 0, stale = 2;
    source.set_transport([&](sdk::transport::Request, std::function<void(sdk::Result<sdk::transport::Response>)> reply) {
        ++asked;
        proto::node::ManifestResponse answer{{}, ManifestAnswer::current, {}};
        if (asked > stale) answer = {v2.encode(), ManifestAnswer::full, {}};
        auto body = proto::node::encode_response(proto::node::Method::get_manifest,
                                                 proto::node::Response{0, proto::node::Status::ok, answer});
        reply(sdk::transport::Response{sdk::transport::Status::ok, body});
    });
    std::optional<bool> result;
    SECTION("a newer manifest from a later node is taken") {
        source.refresh([&](bool ok) { result = ok; });
        CHECK(asked == 3);
        CHECK(source.version() == 2);
        CHECK(result == true);
    }
    SECTION("all say current: the refresh succeeds after asking them all") {
        stale = 100;
        source.refresh([&](bool ok) { result = ok; });
        CHECK(asked == 3);  // attempts
        CHECK(source.version() == 1);
        CHECK(result == true);
    }
}
