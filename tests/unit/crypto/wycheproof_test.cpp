// Every vector of Wycheproof's x25519, ed25519 and xchacha20-poly1305 files (tests/data/crypto,
// see README.md there), honouring each vector's result: "valid" must give the expected output,
// "invalid" must be refused, "acceptable" may go either way but never gives a wrong output.
// Each case counts what it ran per result and checks the counts, so a skipped vector fails.
#include <sodium.h>

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/keys.hpp"

using namespace veil::crypto;
using veil::crypto::test::hex;

namespace {

/// How many vectors of each result ran, and how many "acceptable" ones were accepted.
struct Tally final {
    int valid = 0;
    int acceptable = 0;
    int invalid = 0;
    int acceptable_accepted = 0;

    void add(const std::string& result) {
        if (result == "valid") {
            ++valid;
        } else if (result == "acceptable") {
            ++acceptable;
        } else if (result == "invalid") {
            ++invalid;
        } else {
            FAIL("unknown Wycheproof result " << result);
        }
    }
    [[nodiscard]] int total() const { return valid + acceptable + invalid; }
};

std::ostream& operator<<(std::ostream& os, const Tally& t) {
    return os << t.total() << " vectors: " << t.valid << " valid, " << t.acceptable << " acceptable ("
              << t.acceptable_accepted << " accepted), " << t.invalid << " invalid";
}

bool all_zero(const veil::wire::Bytes& b) {
    return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

/// Veil's own X25519 wrapper; an empty result means it refused (Error{weak_key}).
veil::wire::Bytes veil_x25519(const veil::wire::Bytes& scalar, const veil::wire::Bytes& u) {
    try {
        auto shared = dh(SecretBytes::copy_of(scalar), to_public_key(u));
        auto view = shared.view();
        return {view.begin(), view.end()};
    } catch (const Error&) {
        return {};
    }
}

}  // namespace

TEST_CASE("crypto - Wycheproof x25519, every vector (libsodium refuses all-zero secrets)", "[crypto]") {
    REQUIRE(sodium_init() >= 0);
    auto data = veil::crypto::test::load_json("wycheproof_x25519_test.json");
    Tally tally;
    for (const auto& group : data.at("testGroups")) {
        REQUIRE(group.at("curve") == "curve25519");
        for (const auto& t : group.at("tests")) {
            INFO("tcId " << t.at("tcId").get<int>() << " " << t.at("comment").get<std::string>());
            const std::string result = t.at("result");
            tally.add(result);
            const auto expected = hex(t.at("shared").get<std::string>());
            const auto out = veil_x25519(hex(t.at("private").get<std::string>()), hex(t.at("public").get<std::string>()));
            const bool refused = out.empty();
            if (result == "invalid") {
                CHECK((refused || out != expected));
            } else if (all_zero(expected)) {
                // RFC 7748 §6.1 allows the check; Veil (and libsodium) refuse a low-order peer.
                CHECK(refused);
            } else if (result == "valid") {
                CHECK_FALSE(refused);
                CHECK(veil::wire::to_hex(out) == t.at("shared").get<std::string>());
            } else if (!refused) {  // acceptable: either way, but never a wrong secret
                ++tally.acceptable_accepted;
                CHECK(veil::wire::to_hex(out) == t.at("shared").get<std::string>());
            }
        }
    }
    WARN("Wycheproof x25519: " << tally);
    CHECK(tally.total() == data.at("numberOfTests").get<int>());
    CHECK(tally.valid == 264);
    CHECK(tally.acceptable == 254);
    CHECK(tally.invalid == 0);
    // The 31 acceptable vectors with an all-zero secret are refused; every other one is computed.
    CHECK(tally.acceptable_accepted == 254 - 31);
}

TEST_CASE("crypto - Wycheproof ed25519, every vector", "[crypto]") {
    auto data = veil::crypto::test::load_json("wycheproof_ed25519_test.json");
    Tally tally;
    for (const auto& group : data.at("testGroups")) {
        auto pk = to_public_key(hex(group.at("publicKey").at("pk").get<std::string>()));
        for (const auto& t : group.at("tests")) {
            INFO("tcId " << t.at("tcId").get<int>() << " " << t.at("comment").get<std::string>());
            const std::string result = t.at("result");
            tally.add(result);
            auto msg = hex(t.at("msg").get<std::string>());
            auto sig_bytes = hex(t.at("sig").get<std::string>());
            bool ok = false;
            if (sig_bytes.size() == signature_bytes) {  // any other length is refused by type
                Signature sig{};
                std::copy(sig_bytes.begin(), sig_bytes.end(), sig.begin());
                ok = verify_signature(pk, msg, sig);
            }
            if (result == "valid") {
                CHECK(ok);
            } else if (result == "invalid") {
                CHECK_FALSE(ok);
            } else if (ok) {
                ++tally.acceptable_accepted;
            }
        }
    }
    WARN("Wycheproof ed25519: " << tally);
    CHECK(tally.total() == data.at("numberOfTests").get<int>());
    CHECK(tally.valid == 88);
    CHECK(tally.acceptable == 0);
    CHECK(tally.invalid == 63);
}

namespace {

/// One xchacha20-poly1305 vector through libsodium, checked against its result.
void check_xchacha_vector(const nlohmann::json& t, Tally& tally) {
    const std::string result = t.at("result");
    auto key = hex(t.at("key").get<std::string>());
    auto iv = hex(t.at("iv").get<std::string>());
    auto aad = hex(t.at("aad").get<std::string>());
    auto msg = hex(t.at("msg").get<std::string>());
    auto sealed_expected = hex(t.at("ct").get<std::string>());
    auto tag = hex(t.at("tag").get<std::string>());
    sealed_expected.insert(sealed_expected.end(), tag.begin(), tag.end());
    if (iv.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
        key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
        CHECK(result == "invalid");  // a nonce or key of another size cannot reach libsodium's API
        return;
    }
    veil::wire::Bytes opened(sealed_expected.size());
    unsigned long long len = 0;
    const bool opens = crypto_aead_xchacha20poly1305_ietf_decrypt(
                           opened.data(), &len, nullptr, sealed_expected.data(), sealed_expected.size(),
                           aad.data(), aad.size(), iv.data(), key.data()) == 0;
    opened.resize(opens ? len : 0);
    if (result == "invalid") {
        CHECK_FALSE(opens);
        return;
    }
    if (result == "acceptable") {
        if (opens) {
            ++tally.acceptable_accepted;
            CHECK(opened == msg);
        }
        return;
    }
    CHECK(opens);
    CHECK(opened == msg);
    veil::wire::Bytes sealed(msg.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &len, msg.data(), msg.size(), aad.data(), aad.size(),
                                               nullptr, iv.data(), key.data());
    CHECK(sealed == sealed_expected);
    sealed_expected.back() ^= 0x80;  // a flipped tag bit never opens
    CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(opened.data(), &len, nullptr, sealed_expected.data(),
                                                     sealed_expected.size(), aad.data(), aad.size(), iv.data(),
                                                     key.data()) != 0);
}

}  // namespace

TEST_CASE("crypto - Wycheproof xchacha20-poly1305, every vector", "[crypto]") {
    REQUIRE(sodium_init() >= 0);
    auto data = veil::crypto::test::load_json("wycheproof_xchacha20_poly1305_test.json");
    Tally tally;
    for (const auto& group : data.at("testGroups")) {
        for (const auto& t : group.at("tests")) {
            INFO("tcId " << t.at("tcId").get<int>() << " " << t.at("comment").get<std::string>());
            tally.add(t.at("result"));
            check_xchacha_vector(t, tally);
        }
    }
    WARN("Wycheproof xchacha20-poly1305: " << tally);
    CHECK(tally.total() == data.at("numberOfTests").get<int>());
    CHECK(tally.valid == 246);
    CHECK(tally.acceptable == 0);
    CHECK(tally.invalid == 69);
}
