// Known answers for the primitives Veil uses, straight from libsodium: RFC 7748 (X25519) and
// RFC 8032 (Ed25519). Wycheproof's files run in wycheproof_test.cpp.
#include <sodium.h>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/keys.hpp"

using namespace veil::crypto;
using veil::crypto::test::hex;

namespace {

veil::wire::Bytes x25519(const veil::wire::Bytes& scalar, const veil::wire::Bytes& u, int& rc) {
    veil::wire::Bytes out(32);
    rc = crypto_scalarmult(out.data(), scalar.data(), u.data());
    return out;
}

}  // namespace

TEST_CASE("crypto - RFC 7748 X25519 vectors", "[crypto]") {
    REQUIRE(sodium_init() >= 0);
    int rc = 0;
    CHECK(x25519(hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                 hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), rc) ==
          hex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
    CHECK(rc == 0);
    // The RFC prints u with its top bit set (…a493); X25519 masks that bit.
    CHECK(x25519(hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                 hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"), rc) ==
          hex("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"));

    // §6.1 Diffie-Hellman.
    auto alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    auto bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    veil::wire::Bytes alice_pub(32), bob_pub(32);
    crypto_scalarmult_base(alice_pub.data(), alice.data());
    crypto_scalarmult_base(bob_pub.data(), bob.data());
    CHECK(alice_pub == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    CHECK(bob_pub == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    auto shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    CHECK(x25519(alice, bob_pub, rc) == shared);
    CHECK(x25519(bob, alice_pub, rc) == shared);
    // Through Veil's own wrapper too.
    auto kp = DhKeyPair::from_secret(SecretBytes::copy_of(alice));
    CHECK(dh(kp.sec, to_public_key(bob_pub)).equals(shared));
}

TEST_CASE("crypto - RFC 7748 X25519 iterated once and 1000 times", "[crypto]") {
    REQUIRE(sodium_init() >= 0);
    veil::wire::Bytes k = hex("0900000000000000000000000000000000000000000000000000000000000000");
    veil::wire::Bytes u = k;
    for (int i = 1; i <= 1000; ++i) {
        int rc = 0;
        auto r = x25519(k, u, rc);
        u = k;
        k = r;
        if (i == 1) CHECK(k == hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"));
    }
    CHECK(k == hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
}

TEST_CASE("crypto - RFC 8032 Ed25519 vectors", "[crypto]") {
    struct Vector {
        const char *seed, *pk, *msg, *sig;
    };
    const Vector vectors[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
        // TEST SHA(abc): the message is SHA-512("abc").
        {"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
         "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
         "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
    };
    for (const auto& v : vectors) {
        auto kp = SigningKeyPair::from_seed(hex(v.seed));
        CHECK(veil::wire::to_hex(kp.pub) == v.pk);
        auto msg = hex(v.msg);
        auto sig = kp.sign(msg);
        CHECK(veil::wire::to_hex(sig) == v.sig);
        CHECK(verify_signature(kp.pub, msg, sig));
        sig[0] ^= 1;
        CHECK_FALSE(verify_signature(kp.pub, msg, sig));
    }
}
