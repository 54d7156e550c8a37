#include <catch2/catch.hpp>

#include "veil/crypto/error.hpp"
#include "veil/crypto/keywrap.hpp"

using namespace veil::crypto;

TEST_CASE("crypto - a database key wraps under a passphrase and unwraps only with it", "[crypto]") {
    auto key = generate_database_key();
    REQUIRE(key.size() == 32);
    auto wrapped = wrap_key(key, "correct horse", WrapParams::minimum());
    CHECK(unwrap_key(wrapped, "correct horse").equals(key.view()));
    try {
        unwrap_key(wrapped, "wrong horse");
        FAIL("wrong passphrase accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::wrong_passphrase);
    }
    // Each wrap has a fresh salt and nonce.
    CHECK(wrap_key(key, "correct horse", WrapParams::minimum()) != wrapped);
    // Tampering with the stored parameters is detected (they are authenticated).
    auto bad = wrapped;
    bad[2 + 7] ^= 1;  // low byte of opslimit
    CHECK_THROWS_AS(unwrap_key(bad, "correct horse"), Error);
    auto cut = wrapped;
    cut.pop_back();
    try {
        unwrap_key(cut, "correct horse");
        FAIL("truncated blob accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::malformed);
    }
}

TEST_CASE("crypto - key wrapping with the interactive Argon2id cost", "[crypto][slow]") {
    auto key = generate_database_key();
    auto wrapped = wrap_key(key, "passphrase");
    CHECK(unwrap_key(wrapped, "passphrase").equals(key.view()));
}
