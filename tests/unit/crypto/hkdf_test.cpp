// HKDF-SHA256 on libsodium's HMAC against RFC 5869 Appendix A (test cases 1-3).
#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/hkdf.hpp"

using namespace veil::crypto;
using veil::crypto::test::hex;

namespace {
veil::wire::Bytes range(int from, int to) {
    veil::wire::Bytes b;
    for (int i = from; i <= to; ++i) b.push_back(static_cast<std::uint8_t>(i));
    return b;
}
}  // namespace

TEST_CASE("crypto - HKDF-SHA256 matches RFC 5869 test case 1", "[crypto]") {
    veil::wire::Bytes ikm(22, 0x0b);
    auto salt = range(0x00, 0x0c);
    auto info = range(0xf0, 0xf9);
    CHECK(veil::wire::to_hex(hkdf_extract(salt, ikm).view()) ==
          "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    CHECK(veil::wire::to_hex(hkdf_sha256(ikm, salt, info, 42).view()) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("crypto - HKDF-SHA256 matches RFC 5869 test case 2", "[crypto]") {
    auto ikm = range(0x00, 0x4f);
    auto salt = range(0x60, 0xaf);
    auto info = range(0xb0, 0xff);
    CHECK(veil::wire::to_hex(hkdf_extract(salt, ikm).view()) ==
          "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
    CHECK(veil::wire::to_hex(hkdf_sha256(ikm, salt, info, 82).view()) ==
          "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
          "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST_CASE("crypto - HKDF-SHA256 matches RFC 5869 test case 3 (no salt, no info)", "[crypto]") {
    veil::wire::Bytes ikm(22, 0x0b);
    CHECK(veil::wire::to_hex(hkdf_extract({}, ikm).view()) ==
          "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
    CHECK(veil::wire::to_hex(hkdf_sha256(ikm, {}, {}, 42).view()) ==
          "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("crypto - HKDF refuses outputs longer than 255 blocks", "[crypto]") {
    veil::wire::Bytes ikm(32, 1);
    CHECK_THROWS_AS(hkdf_sha256(ikm, {}, {}, 255 * 32 + 1), Error);
    CHECK(hkdf_sha256(ikm, {}, {}, 255 * 32).size() == 255 * 32);
}
