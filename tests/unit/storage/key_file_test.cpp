// The key file: what it holds with and without a passphrase, and how damage is told apart
// from a wrong passphrase.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "error.hpp"
#include "key_file.hpp"
#include "storage_test_support.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;
using veil::crypto::SecretBytes;
using veil::crypto::WrapParams;

namespace {
KeyMaterial fresh_keys(bool rotating) {
    KeyMaterial k{SecretBytes::random(32), {}};
    if (rotating) k.next = SecretBytes::random(32);
    return k;
}

Failure failure_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.failure();
    }
    FAIL("no error");
    return Failure::io;
}
}  // namespace

TEST_CASE("storage - a key file without passphrase round-trips the key and the next key", "[storage]") {
    for (bool rotating : {false, true}) {
        auto keys = fresh_keys(rotating);
        auto sealed = seal_key_file(keys, nullptr, WrapParams::minimum());
        auto view = parse_key_file(sealed.view());
        CHECK(view.protection == Protection::none);
        CHECK(view.cipher_profile == kCipherProfile);
        auto opened = open_key_file(view, nullptr);
        CHECK(opened.current.equals(keys.current.view()));
        CHECK(opened.next.size() == (rotating ? 32U : 0U));
        if (rotating) CHECK(opened.next.equals(keys.next.view()));
        // A passphrase given for an unprotected file is simply not needed.
        auto pp = secret("unused");
        CHECK(open_key_file(view, &pp).current.equals(keys.current.view()));
    }
}

TEST_CASE("storage - a wrapped key file opens only with its passphrase", "[storage]") {
    auto keys = fresh_keys(true);
    auto pp = secret("correct horse battery staple");
    auto sealed = seal_key_file(keys, &pp, WrapParams::minimum());
    // The raw key is nowhere in the file.
    std::string_view file(reinterpret_cast<const char*>(sealed.data()), sealed.size());
    CHECK(file.find(keys.current.str()) == std::string_view::npos);
    auto view = parse_key_file(sealed.view());
    CHECK(view.protection == Protection::passphrase);
    auto opened = open_key_file(view, &pp);
    CHECK(opened.current.equals(keys.current.view()));
    CHECK(opened.next.equals(keys.next.view()));

    auto wrong = secret("correct horse battery stapler");
    CHECK(failure_of([&] { open_key_file(view, &wrong); }) == Failure::wrong_passphrase);
    CHECK(failure_of([&] { open_key_file(view, nullptr); }) == Failure::passphrase_required);
}

TEST_CASE("storage - a damaged key file is reported as damaged, not as a wrong passphrase", "[storage]") {
    const auto pp = secret("pw");
    for (const SecretBytes* p : {static_cast<const SecretBytes*>(nullptr), &pp}) {
        auto sealed = seal_key_file(fresh_keys(false), p, WrapParams::minimum());
        veil::wire::Bytes good(sealed.data(), sealed.data() + sealed.size());
        for (std::size_t i = 0; i < good.size(); ++i) {
            auto bad = good;
            bad[i] ^= 0x20;
            CHECK(failure_of([&] { parse_key_file(bad); }) == Failure::damaged_key_file);
        }
        for (std::size_t n = 0; n < good.size(); ++n) {
            veil::wire::ByteView cut(good.data(), n);
            CHECK(failure_of([&] { parse_key_file(cut); }) == Failure::damaged_key_file);
        }
        auto longer = good;
        longer.push_back(0);
        CHECK(failure_of([&] { parse_key_file(longer); }) == Failure::damaged_key_file);
    }
}

TEST_CASE("storage - key files are written atomically with mode 0600", "[storage]") {
    StorageDir dir;
    auto path = dir / "db.key";
    auto first = seal_key_file(fresh_keys(false), nullptr, WrapParams::minimum());
    write_key_file(path, first.view());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_key_file(path).equals(first.view()));
    auto second = seal_key_file(fresh_keys(true), nullptr, WrapParams::minimum());
    write_key_file(path, second.view());
    CHECK(read_key_file(path).equals(second.view()));
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        CHECK_FALSE(e.path().filename().string().starts_with("db.key.tmp"));
    }
    CHECK(failure_of([&] { read_key_file(dir / "absent.key"); }) == Failure::io);
    write_text(dir / "huge.key", std::string(5000, 'x'));
    CHECK(failure_of([&] { read_key_file(dir / "huge.key"); }) == Failure::damaged_key_file);
}
