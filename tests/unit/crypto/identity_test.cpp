#include <functional>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/identity.hpp"

using namespace veil::crypto;

namespace {
ErrorKind kind_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}
}  // namespace

TEST_CASE("crypto - a Veil ID is 05 + hex of the X25519 key, and parses back", "[crypto]") {
    auto id = Identity::generate();
    auto text = id.veil_id().str();
    CHECK(text.size() == 66);
    CHECK(text.substr(0, 2) == "05");
    CHECK(parse_veil_id(text) == id.veil_id());
    // Upper-case hex is accepted too.
    std::string upper = text;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(parse_veil_id(upper) == id.veil_id());
    CHECK(veil_id_of(id.signing_key()) == id.veil_id());
    CHECK(id.dh_keys().pub == id.veil_id().x25519);
}

TEST_CASE("crypto - the same seed gives the same identity", "[crypto]") {
    auto seed = SecretBytes::copy_of(veil::crypto::test::hex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    auto a = Identity::from_seed(seed);
    auto b = Identity::from_seed(seed);
    CHECK(a.veil_id() == b.veil_id());
    // The Ed25519 key is RFC 8032's test 1 key; the ID is its libsodium X25519 conversion.
    CHECK(veil::wire::to_hex(a.signing_key()) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
}

TEST_CASE("crypto - parse_veil_id gives a clear error for each fault", "[crypto]") {
    auto good = Identity::generate().veil_id().str();
    CHECK(kind_of([&] { parse_veil_id(good.substr(0, 65)); }) == ErrorKind::invalid_id);
    CHECK_THAT(message_of([&] { parse_veil_id(good + "0"); }), Catch::Contains("66 characters"));
    CHECK_THAT(message_of([&] { parse_veil_id("06" + good.substr(2)); }), Catch::Contains("start with"));
    std::string bad_hex = good;
    bad_hex[10] = 'g';
    CHECK_THAT(message_of([&] { parse_veil_id(bad_hex); }), Catch::Contains("position 10"));
    // Low-order points and non-canonical values are not keys.
    std::string zero = "05" + std::string(64, '0');
    CHECK_THAT(message_of([&] { parse_veil_id(zero); }), Catch::Contains("not a valid curve point"));
    std::string one = "0501" + std::string(62, '0');
    CHECK(kind_of([&] { parse_veil_id(one); }) == ErrorKind::invalid_id);
    std::string high = "05" + std::string(62, 'f') + "ff";
    CHECK(kind_of([&] { parse_veil_id(high); }) == ErrorKind::invalid_id);
    std::string p_plus = "05f0" + std::string(60, 'f') + "7f";  // p + 3: not canonical
    CHECK(kind_of([&] { parse_veil_id(p_plus); }) == ErrorKind::invalid_id);
}

TEST_CASE("crypto - signatures are checked only against the key bound to the ID", "[crypto]") {
    auto alice = Identity::generate();
    auto mallory = Identity::generate();
    auto msg = veil::crypto::test::bytes_of("hello");
    auto sig = alice.sign(msg);
    CHECK_NOTHROW(verify_identity_signature(alice.veil_id(), alice.signing_key(), msg, sig));
    // Mallory signs and presents her own key while claiming to be Alice.
    auto forged = mallory.sign(msg);
    CHECK(kind_of([&] { verify_identity_signature(alice.veil_id(), mallory.signing_key(), msg, forged); }) ==
          ErrorKind::untrusted_key);
    auto tampered = sig;
    tampered[5] ^= 1;
    CHECK(kind_of([&] { verify_identity_signature(alice.veil_id(), alice.signing_key(), msg, tampered); }) ==
          ErrorKind::bad_signature);
    CHECK_FALSE(key_is_bound_to(mallory.signing_key(), alice.veil_id()));
}
