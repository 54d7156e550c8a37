#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/secret_bytes.hpp"

using namespace veil::crypto;

TEST_CASE("crypto - SecretBytes owns, moves, clones and compares", "[crypto]") {
    auto a = SecretBytes::random(32);
    REQUIRE(a.size() == 32);
    auto b = a.clone();
    CHECK(b.equals(a.view()));
    CHECK(b.data() != a.data());
    SecretBytes c = std::move(a);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(c.equals(b.view()));
    b.data()[0] ^= 1;
    CHECK_FALSE(c.equals(b.view()));
    CHECK(SecretBytes(0).empty());
    CHECK(SecretBytes(5).equals(veil::wire::Bytes(5, 0)));
    CHECK(SecretBytes::copy_of(std::string_view("abc")).str() == "abc");
}
