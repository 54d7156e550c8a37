#include <catch2/catch.hpp>

#include "veil/proto/admission.hpp"
#include "veil/proto/manifest_diff.hpp"

using namespace veil::proto;
using veil::crypto::SigningKeyPair;
using veil::wire::DecodeError;

namespace {

NodeEntry entry(std::uint16_t port, SwarmId swarm = 0) {
    auto k = SigningKeyPair::generate();
    return NodeEntry{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port, swarm};
}

// The manifests below are valid until kValidUntil; the checks run at kNow.
constexpr std::uint64_t kNow = 3000;
constexpr std::uint64_t kValidUntil = 1'000'000;

SignedManifest sign(Manifest m, const SigningKeyPair& key) {
    std::vector<const SigningKeyPair*> keys{&key};
    return sign_manifest(m, keys);
}

Manifest sorted(Manifest m) {
    std::sort(m.nodes.begin(), m.nodes.end(), [](const NodeEntry& a, const NodeEntry& b) { return a.ed25519 < b.ed25519; });
    return m;
}

// A manifest of n nodes and its successor: one removed, one added, one moved to another swarm.
struct Pair {
    SignedManifest from, to;
};

Pair pair(const SigningKeyPair& auth, std::size_t n = 20) {
    Manifest a;
    a.version = 5;
    a.issued_ms = 1000;
    a.valid_until_ms = kValidUntil;
    for (std::size_t i = 0; i < n; ++i) a.nodes.push_back(entry(static_cast<std::uint16_t>(20000 + i)));
    a = sorted(a);
    Manifest b = a;
    b.version = 6;
    b.issued_ms = 2000;
    b.valid_until_ms = kValidUntil;
    b.nodes.erase(b.nodes.begin() + 3);
    b.nodes[7].swarm = 42;
    b.nodes.push_back(entry(30000));
    return {sign(a, auth), sign(sorted(b), auth)};
}

}  // namespace

TEST_CASE("manifest diff - rebuilds the new body exactly, and its signatures verify", "[node][manifest]") {
    auto auth = SigningKeyPair::generate();
    auto [from, to] = pair(auth);
    auto diff = make_manifest_diff(from.manifest, to);
    CHECK(diff.removed.size() == 1);
    CHECK(diff.upserted.size() == 2);
    auto encoded = encode_manifest_diff(diff);
    CHECK(decode_manifest_diff(encoded) == diff);
    CHECK(encoded.size() * 4 < to.encode().size());  // smaller than the whole manifest
    auto rebuilt = apply_manifest_diff(from, decode_manifest_diff(encoded));
    CHECK(rebuilt.body == to.body);
    CHECK(rebuilt.manifest == to.manifest);
    ManifestVerifier v({auth.pub}, 1);
    REQUIRE(v.accept(from, kNow) == ManifestCheck::ok);
    CHECK(v.accept(rebuilt, kNow) == ManifestCheck::ok);
    CHECK(v.accepted_version() == 6);
}

TEST_CASE("manifest diff - a forged or misapplied diff is refused", "[node][manifest]") {
    auto auth = SigningKeyPair::generate();
    auto [from, to] = pair(auth);
    auto diff = make_manifest_diff(from.manifest, to);
    ManifestVerifier v({auth.pub}, 1);
    REQUIRE(v.accept(from, kNow) == ManifestCheck::ok);

    SECTION("a node slipped in: the signatures no longer cover the body") {
        auto forged = diff;
        forged.upserted.push_back(entry(31000));
        std::sort(forged.upserted.begin(), forged.upserted.end(),
                  [](const NodeEntry& a, const NodeEntry& b) { return a.ed25519 < b.ed25519; });
        CHECK(v.check(apply_manifest_diff(from, forged), kNow) == ManifestCheck::too_few_signatures);
    }
    SECTION("an address changed") {
        auto forged = diff;
        forged.upserted[0].port = 6379;
        CHECK(v.check(apply_manifest_diff(from, forged), kNow) == ManifestCheck::too_few_signatures);
    }
    SECTION("another base version") {
        auto other = diff;
        other.from_version = 4;
        CHECK_THROWS_AS(apply_manifest_diff(from, other), DecodeError);
    }
    SECTION("removing a node the held manifest lacks") {
        auto other = diff;
        other.removed = {entry(1).ed25519};
        CHECK_THROWS_AS(apply_manifest_diff(from, other), DecodeError);
    }
    SECTION("unsorted lists and truncations are malformed") {
        auto bytes = encode_manifest_diff(diff);
        for (std::size_t cut = 0; cut < bytes.size(); cut += 7)
            CHECK_THROWS_AS(decode_manifest_diff({bytes.data(), cut}), DecodeError);
        auto swapped = diff;
        std::swap(swapped.upserted[0], swapped.upserted[1]);
        CHECK_THROWS_AS(decode_manifest_diff(encode_manifest_diff(swapped)), DecodeError);
    }
}

TEST_CASE("admission - the challenge message binds the authority, the nonce and the address", "[node][manifest]") {
    auto a = SigningKeyPair::generate();
    Hash nonce{};
    nonce[0] = 1;
    auto m = challenge_message(a.pub, nonce, "127.0.0.1", 7000);
    CHECK(m != challenge_message(a.pub, nonce, "127.0.0.1", 7001));
    CHECK(m != challenge_message(a.pub, nonce, "127.0.0.2", 7000));
    CHECK(m != challenge_message(SigningKeyPair::generate().pub, nonce, "127.0.0.1", 7000));
    Hash other = nonce;
    other[1] = 1;
    CHECK(m != challenge_message(a.pub, other, "127.0.0.1", 7000));
    CHECK(std::string(m.begin(), m.begin() + static_cast<long>(kChallengeDomain.size())) == kChallengeDomain);
}
