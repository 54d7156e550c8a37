#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/identity.hpp"
#include "veil/crypto/mnemonic.hpp"

using namespace veil::crypto;

namespace {
std::string error_of(std::string_view phrase) {
    try {
        phrase_to_entropy(phrase);
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::invalid_phrase);
        return e.what();
    }
    return {};
}
}  // namespace

TEST_CASE("crypto - BIP-39 published vectors: entropy to words and back", "[crypto]") {
    auto data = veil::crypto::test::load_json("bip39_vectors.json");
    int n = 0;
    for (const auto& v : data.at("english")) {
        auto entropy = veil::crypto::test::hex(v.at(0).get<std::string>());
        const std::string words = v.at(1);
        INFO(v.at(0).get<std::string>());
        CHECK(entropy_to_phrase(entropy).str() == words);
        CHECK(phrase_to_entropy(words).equals(entropy));
        ++n;
    }
    CHECK(n == 24);
}

TEST_CASE("crypto - the word list is the 2048 sorted BIP-39 English words", "[crypto]") {
    CHECK(bip39_word(0) == "abandon");
    CHECK(bip39_word(2047) == "zoo");
    for (std::size_t i = 1; i < 2048; ++i) REQUIRE(bip39_word(i - 1) < bip39_word(i));
}

TEST_CASE("crypto - a recovery phrase restores the same ID", "[crypto]") {
    auto id = Identity::generate();
    auto phrase = id.recovery_phrase();
    std::size_t words = 1;
    for (char c : phrase.str()) words += c == ' ' ? 1 : 0;
    CHECK(words == 24);
    auto restored = Identity::from_phrase(phrase.str());
    CHECK(restored.veil_id() == id.veil_id());
    CHECK(restored.seed().equals(id.seed().view()));
    // Case and spacing do not matter.
    std::string messy = "  ";
    for (char c : phrase.str()) messy += c == ' ' ? std::string("\n\t ") : std::string(1, static_cast<char>(std::toupper(c)));
    CHECK(Identity::from_phrase(messy).veil_id() == id.veil_id());
}

TEST_CASE("crypto - a wrong word or checksum is a clear error naming the word", "[crypto]") {
    std::string valid = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon art";
    CHECK_THAT(error_of("abandon abandn " + valid.substr(16)), Catch::Contains("word 2") && Catch::Contains("abandn"));
    // "abandon" x24 is all valid words but fails the checksum.
    std::string bad_checksum = valid.substr(0, valid.size() - 3) + "abandon";
    CHECK_THAT(error_of(bad_checksum), Catch::Contains("checksum") && Catch::Contains("word 24"));
    CHECK_THAT(error_of("abandon abandon"), Catch::Contains("got 2"));
    CHECK_THAT(error_of(""), Catch::Contains("got 0"));
    // A valid 12-word phrase is not a Veil identity.
    try {
        Identity::from_phrase("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about");
        FAIL("12 words accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::invalid_phrase);
        CHECK_THAT(e.what(), Catch::Contains("24 words"));
    }
}
