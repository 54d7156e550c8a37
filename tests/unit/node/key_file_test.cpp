#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "directory/key_file.hpp"

using namespace veil::directory;

TEST_CASE("key files - created once with mode 0600, then loaded; a wrong size is refused", "[node][keys]") {
    auto dir = std::filesystem::temp_directory_path() / ("veil-node-keys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto path = dir / "sub" / "node.key";
    auto first = load_or_create_key(path);
    auto again = load_or_create_key(path);
    CHECK(first.public_key() == again.public_key());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    auto secret = load_or_create_hex_secret(dir / "db.key");
    CHECK(secret.size() == 64);
    CHECK(load_or_create_hex_secret(dir / "db.key") == secret);

    std::ofstream(dir / "short.key") << "too short";
    CHECK_THROWS_AS(load_or_create_key(dir / "short.key"), std::runtime_error);
    std::ofstream(dir / "long.key") << std::string(33, 'x');
    CHECK_THROWS_AS(load_or_create_key(dir / "long.key"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("key files - a seed gives the same key and its X25519 form", "[node][keys]") {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(3);
    auto a = SigningKey::from_seed(seed);
    auto b = SigningKey::from_seed(seed);
    CHECK(a.public_key() == b.public_key());
    CHECK(a.seed() == seed);
    PublicKey x{};
    REQUIRE(ed25519_to_x25519(a.public_key(), x));
    CHECK(x == a.x25519_public_key());
    CHECK_THROWS_AS(SigningKey::from_seed(std::span<const std::uint8_t>(seed.data(), 31)), std::invalid_argument);
    auto sig = a.sign(veil::wire::Bytes{1, 2, 3});
    CHECK(verify_signature(a.public_key(), veil::wire::Bytes{1, 2, 3}, sig));
    CHECK_FALSE(verify_signature(a.public_key(), veil::wire::Bytes{1, 2, 4}, sig));
}
