// The vault: the database with its key file. Passphrase errors leave the database untouched;
// setting, changing and removing the passphrase and rotating the key keep the data, also when
// a rotation is interrupted at either step.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>

#include "error.hpp"
#include "vault.hpp"
#include "storage_test_support.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;
using veil::crypto::SecretBytes;
using veil::crypto::WrapParams;

namespace {
VaultOptions fast() {
    VaultOptions o;
    o.wrap = WrapParams::minimum();
    o.database.durable_commits = false;
    return o;
}

Error error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e;
    }
    FAIL("no error");
    return Error(Failure::io, "");
}

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

void fill(Vault& v) {
    for (int i = 0; i < 50; ++i) v.db().put("messages", std::to_string(i), bytes_of("hello " + std::to_string(i)));
}

void check_filled(Vault& v) {
    for (int i = 0; i < 50; ++i) CHECK(v.db().get("messages", std::to_string(i)) == bytes_of("hello " + std::to_string(i)));
}
}  // namespace

TEST_CASE("storage - without a passphrase the key lives in a 0600 key file", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    {
        auto v = Vault::open(path, nullptr, fast());
        CHECK(v->outcome() == OpenOutcome::created);
        CHECK(v->protection() == Protection::none);
        fill(*v);
    }
    CHECK(mode_of(Vault::key_path(path)) == 0600);
    CHECK(mode_of(path) == 0600);
    // A key-file temp a crash left behind is removed on the next open.
    write_text(dir / "veil.db.key.tmp.12345", "a key could be in here");
    auto v = Vault::open(path, nullptr, fast());
    CHECK(v->outcome() == OpenOutcome::opened);
    CHECK_FALSE(std::filesystem::exists(dir / "veil.db.key.tmp.12345"));
    v->db().put("n", "k", bytes_of("v"));
    CHECK(mode_of(dir / "veil.db-wal") == 0600);
    check_filled(*v);
}

TEST_CASE("storage - a wrong or missing passphrase fails cleanly and leaves the files byte for byte", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    auto pp = secret("right one");
    {
        auto v = Vault::open(path, &pp, fast());
        CHECK(v->protection() == Protection::passphrase);
        fill(*v);
    }
    auto db_before = file_bytes(path), key_before = file_bytes(Vault::key_path(path));
    auto wrong = secret("wrong one");
    auto e = error_of([&] { Vault::open(path, &wrong, fast()); });
    CHECK(e.failure() == Failure::wrong_passphrase);
    CHECK_THAT(e.what(), Catch::Contains("wrong passphrase"));
    e = error_of([&] { Vault::open(path, nullptr, fast()); });
    CHECK(e.failure() == Failure::passphrase_required);
    CHECK_THAT(e.what(), Catch::Contains("--passphrase-file") && Catch::Contains("VEIL_PASSPHRASE"));
    CHECK(file_bytes(path) == db_before);
    CHECK(file_bytes(Vault::key_path(path)) == key_before);
    CHECK_FALSE(std::filesystem::exists(dir / "veil.db-wal"));
    CHECK_FALSE(std::filesystem::exists(dir / "veil.db-shm"));
    check_filled(*Vault::open(path, &pp, fast()));
}

TEST_CASE("storage - missing or foreign key files are clear errors", "[storage]") {
    StorageDir dir;
    auto a = dir / "a.db", b = dir / "b.db";
    Vault::open(a, nullptr, fast());
    Vault::open(b, nullptr, fast());
    auto a_before = file_bytes(a);
    // b's key file beside a's database: the key does not open it.
    std::filesystem::copy_file(Vault::key_path(b), Vault::key_path(a), std::filesystem::copy_options::overwrite_existing);
    CHECK(error_of([&] { Vault::open(a, nullptr, fast()); }).failure() == Failure::key_mismatch);
    CHECK(file_bytes(a) == a_before);
    std::filesystem::remove(Vault::key_path(a));
    auto e = error_of([&] { Vault::open(a, nullptr, fast()); });
    CHECK(e.failure() == Failure::missing_file);
    CHECK_THAT(e.what(), Catch::Contains("key file"));
    std::filesystem::remove(b);
    CHECK(error_of([&] { Vault::open(b, nullptr, fast()); }).failure() == Failure::missing_file);
    auto no_create = fast();
    no_create.create_if_missing = false;
    CHECK(error_of([&] { Vault::open(dir / "c.db", nullptr, no_create); }).failure() == Failure::missing_file);
    CHECK_FALSE(std::filesystem::exists(dir / "c.db"));
    write_text(Vault::key_path(a), "garbage");
    CHECK(error_of([&] { Vault::open(a, nullptr, fast()); }).failure() == Failure::damaged_key_file);
}

TEST_CASE("storage - setting, changing and removing the passphrase and rekeying keep the data", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    auto kp = Vault::key_path(path);
    auto first = secret("first"), second = secret("second");
    {
        auto v = Vault::open(path, nullptr, fast());
        fill(*v);
        v->reseal(&first, false);  // set
        CHECK(v->protection() == Protection::passphrase);
    }
    CHECK(error_of([&] { Vault::open(path, nullptr, fast()); }).failure() == Failure::passphrase_required);
    auto old_key_file = file_bytes(kp);
    {
        auto v = Vault::open(path, &first, fast());
        check_filled(*v);
        v->reseal(&second, false);  // change
    }
    CHECK(error_of([&] { Vault::open(path, &first, fast()); }).failure() == Failure::wrong_passphrase);
    {
        auto v = Vault::open(path, &second, fast());
        check_filled(*v);
        v->reseal(&second, true);  // rotate the database key, same passphrase
        v->db().put("messages", "after rekey", bytes_of("still writable"));
    }
    // The key file from before the rotation no longer opens the database, even with its passphrase.
    auto current_key_file = file_bytes(kp);
    write_text(kp, old_key_file);
    CHECK(error_of([&] { Vault::open(path, &first, fast()); }).failure() == Failure::key_mismatch);
    write_text(kp, current_key_file);
    {
        auto v = Vault::open(path, &second, fast());
        check_filled(*v);
        CHECK(v->db().get("messages", "after rekey") == bytes_of("still writable"));
        v->reseal(nullptr, true);  // remove the passphrase and rotate
        CHECK(v->protection() == Protection::none);
    }
    CHECK(mode_of(kp) == 0600);
    auto v = Vault::open(path, nullptr, fast());
    CHECK(v->protection() == Protection::none);
    check_filled(*v);
}

TEST_CASE("storage - a key rotation interrupted before or after its rekey recovers on open", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    auto kp = Vault::key_path(path);
    auto pp = secret("pw");
    SecretBytes old_key;
    {
        auto v = Vault::open(path, &pp, fast());
        fill(*v);
    }
    old_key = open_key_file(parse_key_file(read_key_file(kp).view()), &pp).current.clone();

    SECTION("crash after the key file named the next key, before the rekey") {
        KeyMaterial pending{old_key.clone(), SecretBytes::random(32)};
        write_key_file(kp, seal_key_file(pending, &pp, WrapParams::minimum()).view());
        auto v = Vault::open(path, &pp, fast());
        CHECK(v->outcome() == OpenOutcome::undid_rotation);
        check_filled(*v);
    }
    SECTION("crash after the rekey, before the key file was settled") {
        KeyMaterial pending{old_key.clone(), SecretBytes::random(32)};
        write_key_file(kp, seal_key_file(pending, &pp, WrapParams::minimum()).view());
        Database::open(path, old_key)->rekey(pending.next);
        auto v = Vault::open(path, &pp, fast());
        CHECK(v->outcome() == OpenOutcome::finished_rotation);
        check_filled(*v);
    }
    // Either way the key file holds one key again and opens the database directly.
    auto settled = open_key_file(parse_key_file(read_key_file(kp).view()), &pp);
    CHECK(settled.next.empty());
    CHECK(Vault::open(path, &pp, fast())->outcome() == OpenOutcome::opened);
}

TEST_CASE("storage - a key rotation is refused while another process has the database open", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    auto first = Vault::open(path, nullptr, fast());
    fill(*first);
    auto second = Vault::open(path, nullptr, fast());  // its own lock, as another process would hold
    auto e = error_of([&] { second->reseal(nullptr, true); });
    CHECK(e.failure() == Failure::busy);
    CHECK_THAT(e.what(), Catch::Contains("another veil process"));
    check_filled(*first);  // the first still reads: nothing was rotated
    // Re-wrapping without rotation does not change the database key: allowed.
    auto pp = secret("pw");
    second->reseal(&pp, false);
    first.reset();
    second->reseal(&pp, true);
    check_filled(*second);
    second.reset();
    check_filled(*Vault::open(path, &pp, fast()));
}

TEST_CASE("storage - processes opening a new database at once agree on one database and key", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    std::vector<pid_t> children;
    for (int i = 0; i < 4; ++i) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int code = 0;
            try {
                auto v = Vault::open(path, nullptr, fast());
                v->db().put("who", std::to_string(getpid()), bytes_of("here"));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "child %d: %s\n", getpid(), e.what());
                code = 1;
            }
            _exit(code);
        }
        children.push_back(pid);
    }
    for (auto pid : children) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    auto v = Vault::open(path, nullptr, fast());
    CHECK(v->db().scan("who", "", 10).entries.size() == 4);
}
