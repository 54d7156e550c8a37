#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "veil/crypto/key_file.hpp"

using namespace veil::crypto;

TEST_CASE("key files - created once with mode 0600, then loaded; a wrong size is refused", "[crypto][keys]") {
    auto dir = std::filesystem::temp_directory_path() / ("veil-node-keys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto path = dir / "sub" / "node.key";
    auto first = load_or_create_signing_key(path);
    auto again = load_or_create_signing_key(path);
    CHECK(first.pub == again.pub);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    auto secret = load_or_create_hex_secret(dir / "db.key");
    CHECK(secret.size() == 64);
    CHECK(load_or_create_hex_secret(dir / "db.key") == secret);

    std::ofstream(dir / "short.key") << "too short";
    CHECK_THROWS_AS(load_or_create_signing_key(dir / "short.key"), std::runtime_error);
    std::ofstream(dir / "long.key") << std::string(33, 'x');
    CHECK_THROWS_AS(load_or_create_signing_key(dir / "long.key"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("key files - a seed gives the same key and its X25519 form", "[crypto][keys]") {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(3);
    auto a = SigningKeyPair::from_seed(seed);
    auto b = SigningKeyPair::from_seed(seed);
    CHECK(a.pub == b.pub);
    CHECK(a.seed().equals(seed));
    CHECK(a.to_dh().pub == ed25519_to_x25519(a.pub));
    CHECK_THROWS_AS(SigningKeyPair::from_seed(std::span<const std::uint8_t>(seed.data(), 31)), Error);
    auto sig = a.sign(veil::wire::Bytes{1, 2, 3});
    CHECK(verify_signature(a.pub, veil::wire::Bytes{1, 2, 3}, sig));
    CHECK_FALSE(verify_signature(a.pub, veil::wire::Bytes{1, 2, 4}, sig));
}
