#include <catch2/catch.hpp>

#include "veil/proto/manifest.hpp"

using namespace veil::proto;
using veil::wire::DecodeError;

namespace {

constexpr std::uint64_t kNow = 1700000000000 + 1000;  // inside sample()'s validity

Manifest sample(std::uint64_t version, std::size_t n = 3) {
    Manifest m;
    m.version = version;
    m.issued_ms = 1700000000000;
    m.valid_until_ms = m.issued_ms + 60'000;
    for (std::size_t i = 0; i < n; ++i) {
        auto k = veil::crypto::SigningKeyPair::generate();
        m.nodes.push_back(NodeEntry{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1",
                                    static_cast<std::uint16_t>(20000 + i), i % 2 ? 1ULL << 63 : 0});
    }
    return m;
}

SignedManifest sign(const Manifest& m, std::initializer_list<const veil::crypto::SigningKeyPair*> keys) {
    std::vector<const veil::crypto::SigningKeyPair*> v(keys);
    return sign_manifest(m, v);
}

}  // namespace

TEST_CASE("manifest - a signed manifest round-trips and verifies", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    auto s = sign(sample(7), {&auth});
    auto back = decode_signed_manifest(s.encode());
    CHECK(back.manifest == s.manifest);
    ManifestVerifier v({auth.pub}, 1);
    CHECK(v.accept(back, kNow) == ManifestCheck::ok);
    CHECK(v.accepted_version() == 7);
    CHECK(back.manifest.swarm_ids() == std::vector<SwarmId>{0, 1ULL << 63});
    CHECK(back.manifest.find(back.manifest.nodes[1].ed25519) == &back.manifest.nodes[1]);
}

TEST_CASE("manifest - forged, wrong authority and old versions are refused", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    auto other = veil::crypto::SigningKeyPair::generate();
    ManifestVerifier v({auth.pub}, 1);

    SECTION("signed by a key that is not configured") {
        CHECK(v.check(decode_signed_manifest(sign(sample(1), {&other}).encode()), kNow) ==
              ManifestCheck::too_few_signatures);
    }
    SECTION("a body changed after signing") {
        auto s = sign(sample(1), {&auth});
        auto tampered = s.manifest;
        tampered.nodes[0].port = 1;
        s.body = encode_manifest_body(tampered);
        CHECK(v.check(decode_signed_manifest(s.encode()), kNow) == ManifestCheck::too_few_signatures);
    }
    SECTION("a signature claimed under the authority's key but made by another") {
        auto s = sign(sample(1), {&other});
        s.signatures[0].first = auth.pub;
        CHECK(v.check(decode_signed_manifest(s.encode()), kNow) == ManifestCheck::too_few_signatures);
    }
    SECTION("a lower version than the one accepted") {
        REQUIRE(v.accept(sign(sample(5), {&auth}), kNow) == ManifestCheck::ok);
        CHECK(v.accept(sign(sample(4), {&auth}), kNow) == ManifestCheck::old_version);
        CHECK(v.accepted_version() == 5);
        CHECK(v.accept(sign(sample(6), {&auth}), kNow) == ManifestCheck::ok);
    }
}

TEST_CASE("manifest - k of n authorities", "[node][manifest]") {
    auto a = veil::crypto::SigningKeyPair::generate();
    auto b = veil::crypto::SigningKeyPair::generate();
    auto c = veil::crypto::SigningKeyPair::generate();
    ManifestVerifier v({a.pub, b.pub, c.pub}, 2);
    auto m = sample(3);
    CHECK(v.check(sign(m, {&a}), kNow) == ManifestCheck::too_few_signatures);
    CHECK(v.check(sign(m, {&a, &a}), kNow) == ManifestCheck::too_few_signatures);  // one vote per key
    CHECK(v.check(sign(m, {&a, &c}), kNow) == ManifestCheck::ok);
    CHECK(v.check(sign(m, {&a, &b, &c}), kNow) == ManifestCheck::ok);
}

TEST_CASE("manifest - malformed envelopes are decode errors", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    auto bytes = sign(sample(2), {&auth}).encode();
    for (std::size_t cut = 0; cut < bytes.size(); cut += 17) {
        veil::wire::Bytes part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        CHECK_THROWS_AS(decode_signed_manifest(part), DecodeError);
    }
    bytes.push_back(0);
    CHECK_THROWS_AS(decode_signed_manifest(bytes), DecodeError);

    auto m = sample(2);
    std::swap(m.nodes[0], m.nodes[1]);
    if (m.nodes[1].ed25519 < m.nodes[0].ed25519) {
        CHECK_THROWS_AS(decode_manifest_body(encode_manifest_body(m)), DecodeError);  // unsorted
    }
    m.nodes[1] = m.nodes[0];
    CHECK_THROWS_AS(decode_manifest_body(encode_manifest_body(m)), DecodeError);  // duplicate
}

TEST_CASE("manifest - node descriptors are verified", "[node][manifest]") {
    auto k = veil::crypto::SigningKeyPair::generate();
    NodeDescriptor d{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", 4000, 123};
    auto env = sign_descriptor(d, k);
    CHECK(decode_verified_descriptor(env) == d);

    auto bad = env;
    bad[10] ^= 1;
    CHECK_THROWS_AS(decode_verified_descriptor(bad), DecodeError);

    auto other = veil::crypto::SigningKeyPair::generate();
    NodeDescriptor wrong_x{k.pub, veil::crypto::ed25519_to_x25519(other.pub), "127.0.0.1", 4000, 123};
    CHECK_THROWS_WITH(decode_verified_descriptor(sign_descriptor(wrong_x, k)), Catch::Contains("x25519"));
    NodeDescriptor bad_host{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "a b", 4000, 123};
    CHECK_THROWS_AS(decode_verified_descriptor(sign_descriptor(bad_host, k)), DecodeError);
}

TEST_CASE("manifest - a node's address parses back, IPv6 included", "[node][manifest]") {
    NodeEntry v4;
    v4.host = "127.0.0.5";
    v4.port = 4100;
    CHECK(address_of(v4) == "127.0.0.5:4100");
    NodeEntry v6;
    v6.host = "::1";
    v6.port = 4101;
    CHECK(address_of(v6) == "[::1]:4101");
    for (const auto& n : {v4, v6}) {
        auto back = veil::sdk::net::parse_endpoint(address_of(n));
        REQUIRE(back.ok());
        CHECK(back.value().host == n.host);
        CHECK(back.value().port == n.port);
    }
}

TEST_CASE("manifest - an expired manifest is refused, a fresh one with a lower version still is too", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    ManifestVerifier v({auth.pub}, 1);
    auto m = sample(9);
    auto s = sign(m, {&auth});
    CHECK(v.check(s, m.valid_until_ms) == ManifestCheck::ok);
    CHECK(v.check(s, m.valid_until_ms + 1) == ManifestCheck::expired);
    // An old signed manifest with a higher number cannot outlive its validity.
    CHECK(v.accept(s, m.valid_until_ms + 1) == ManifestCheck::expired);
    CHECK(v.accepted_version() == 0);
    CHECK_FALSE(manifest_getting_old(m, m.issued_ms + 1000));
    CHECK(manifest_getting_old(m, m.valid_until_ms - 1000));
}

TEST_CASE("manifest - the network parameters are signed with the body", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    auto m = sample(3);
    m.test_network = true;
    m.max_nodes_per_block = 4;
    auto back = decode_signed_manifest(sign(m, {&auth}).encode());
    CHECK(back.manifest.test_network);
    CHECK(back.manifest.max_nodes_per_block == 4);
    auto body = back.body;
    body[1 + 8 + 8 + 8] = 2;  // test_network is a boolean
    CHECK_THROWS_AS(decode_manifest_body(body), DecodeError);
}

TEST_CASE("manifest - the threshold defaults to a majority and is never below one", "[node][manifest]") {
    auto a = veil::crypto::SigningKeyPair::generate();
    auto b = veil::crypto::SigningKeyPair::generate();
    auto c = veil::crypto::SigningKeyPair::generate();
    // Three keys and no threshold: one signature is not enough, two are.
    ManifestVerifier v({a.pub, b.pub, c.pub}, 0);
    CHECK(v.threshold() == 2);
    auto m = sample(3);
    CHECK(v.check(sign(m, {&a}), kNow) == ManifestCheck::too_few_signatures);
    CHECK(v.check(sign(m, {&a, &b}), kNow) == ManifestCheck::ok);
    // A threshold below a majority would let one lying authority sign alone: refused.
    CHECK_THROWS_WITH(ManifestVerifier({a.pub, b.pub, c.pub}, 1), Catch::Contains("below a majority of the 3 authority keys"));
    CHECK_THROWS_AS(ManifestVerifier({a.pub, b.pub, c.pub, veil::crypto::SigningKeyPair::generate().pub}, 2),
                    std::invalid_argument);
    CHECK(ManifestVerifier({a.pub}, 0).threshold() == 1);  // a network of one
    CHECK(ManifestVerifier({a.pub, b.pub, c.pub}, 7).threshold() == 3);
}

TEST_CASE("manifest - one issued far in the verifier's future is refused", "[node][manifest]") {
    auto auth = veil::crypto::SigningKeyPair::generate();
    ManifestVerifier v({auth.pub}, 1);
    auto m = sample(4);
    m.issued_ms = kNow + kMaxClockSkewMs + 1;
    m.valid_until_ms = m.issued_ms + 60'000;
    CHECK(v.accept(sign(m, {&auth}), kNow) == ManifestCheck::from_future);
    CHECK(v.accepted_version() == 0);
    m.issued_ms = kNow + kMaxClockSkewMs;  // within the allowed skew
    CHECK(v.accept(sign(m, {&auth}), kNow) == ManifestCheck::ok);
}

TEST_CASE("manifest - another body of the version accepted is refused", "[node][manifest]") {
    auto a = veil::crypto::SigningKeyPair::generate();
    auto b = veil::crypto::SigningKeyPair::generate();
    auto c = veil::crypto::SigningKeyPair::generate();
    ManifestVerifier v({a.pub, b.pub, c.pub}, 2);
    auto first = sign(sample(8), {&a, &c});
    auto second = sign(sample(8), {&b, &c});  // c signed both: it equivocated
    REQUIRE(v.accept(first, kNow) == ManifestCheck::ok);
    CHECK(v.accept(second, kNow) == ManifestCheck::conflicting_body);
    CHECK(v.accept(first, kNow) == ManifestCheck::ok);  // the same body again is fine
    CHECK(v.accept(sign(sample(9), {&a, &b}), kNow) == ManifestCheck::ok);
}
