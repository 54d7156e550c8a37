// Errors that tell the truth (issue 14, item 6), seen from the command line of a real veil
// process on an existing HOME (one with a veil.toml, as `veil init` leaves it): a database that
// is missing, empty or damaged is never made again silently and says how to restore it; a full
// disk says so; the passphrase file may be given before or after the command word, and a
// directory given as one is called a directory.
#include <sys/mount.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "storage_test_support.hpp"
#include "support/process.hpp"
#include "vault.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;
namespace fs = std::filesystem;

namespace {

// A HOME that `veil init` made: its veil.toml, a database with rows, and its key file.
struct ExistingHome {
    StorageDir dir;
    fs::path home = dir / "home";
    fs::path db = home / "veil.db";
    explicit ExistingHome(int rows = 20, const veil::crypto::SecretBytes* passphrase = nullptr) {
        fs::create_directories(home);
        write_text(home / "veil.toml", "[kernel]\nplugins = [\"sqlcipher\", \"cli\"]\nhome = \"" + home.string() +
                                           "\"\n[sqlcipher]\ndurable_commits = false\n");
        VaultOptions o;
        o.wrap = veil::crypto::WrapParams::minimum();
        auto v = Vault::open(db, passphrase, o);
        std::string value(1000, 'v');
        for (int i = 0; i < rows; ++i) v->db().put("messages", std::to_string(i), bytes_of(value + std::to_string(i)));
    }
    [[nodiscard]] ProcessResult veil(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{veil_exe(), "--home", home.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, 60000);
    }
};

void check_restore_advice(const ProcessResult& r) {
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--restore") && Catch::Contains("backup"));
    // Never the advice that would overwrite the identity in place.
    CHECK_THAT(r.err, !Catch::Contains("run 'veil init'") && !Catch::Contains("run veil init"));
}

}  // namespace

TEST_CASE("storage - an existing HOME whose database is empty or missing is never made again", "[storage][integration]") {
    SECTION("a 0-byte database") {
        ExistingHome h;
        fs::resize_file(h.db, 0);
        auto r = h.veil({"version"});
        check_restore_advice(r);
        CHECK_THAT(r.err, Catch::Contains("is empty (0 bytes)"));
        CHECK(fs::file_size(h.db) == 0);
    }
    SECTION("the database is gone, its key file is left") {
        ExistingHome h;
        fs::remove(h.db);
        auto r = h.veil({"version"});
        check_restore_advice(r);
        CHECK_THAT(r.err, Catch::Contains("is missing"));
        CHECK_FALSE(fs::exists(h.db));
    }
    SECTION("the database and its key file are gone") {
        ExistingHome h;
        fs::remove(h.db);
        fs::remove(Vault::key_path(h.db));
        auto r = h.veil({"version"});
        check_restore_advice(r);
        CHECK_THAT(r.err, Catch::Contains("no database"));
        CHECK_FALSE(fs::exists(h.db));
        CHECK_FALSE(fs::exists(Vault::key_path(h.db)));
    }
}

TEST_CASE("storage - a database damaged in the middle says it is damaged", "[storage][integration]") {
    ExistingHome h(3000);
    auto size = fs::file_size(h.db);
    REQUIRE(size > 100 * 4096);
    {
        std::fstream f(h.db, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096 + 100));
        std::string junk(2000, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    // Rotating the key reads every page.
    auto r = h.veil({"passphrase", "--rekey"});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("damaged") && Catch::Contains("backup"));
    CHECK_THAT(r.err, !Catch::Contains("SQL logic error"));
}

TEST_CASE("storage - a full disk says disk full", "[storage][integration]") {
    // A real full file system: a 16 MiB tmpfs (the tests run as root, as the testnet ones do).
    StorageDir mnt;
    REQUIRE(::mount("tmpfs", mnt.path().c_str(), "tmpfs", 0, "size=16m,mode=0700") == 0);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt.path()};
    fs::path home = mnt.path() / "home";
    fs::create_directories(home);
    write_text(home / "veil.toml", "[kernel]\nplugins = [\"sqlcipher\", \"cli\"]\n[sqlcipher]\ndurable_commits = false\n");
    {
        VaultOptions o;
        auto v = Vault::open(home / "veil.db", nullptr, o);
        std::string value(1000, 'v');
        for (int i = 0; i < 1500; ++i) v->db().put("messages", std::to_string(i), bytes_of(value + std::to_string(i)));
    }
    // Leave a few pages free: rotating the key rewrites every page into the WAL.
    {
        std::ofstream filler(mnt.path() / "filler", std::ios::binary);
        std::string block(4096, '\0');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
        }
    }
    auto r = run({veil_exe(), "--home", home.string(), "passphrase", "--rekey"}, {}, 60000);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("disk full"));
    CHECK_THAT(r.err, !Catch::Contains("disk I/O error"));
}

TEST_CASE("storage - the passphrase file goes before or after the command word; a directory is called one",
          "[storage][integration]") {
    auto pp = secret("a long passphrase");
    ExistingHome h(5, &pp);
    auto pw = h.dir / "pw";
    write_text(pw, "a long passphrase\n");
    auto before = h.veil({"--passphrase-file", pw.string(), "version"});
    INFO(before.err);
    CHECK(before.exit_code == 0);
    auto after = h.veil({"version", "--passphrase-file", pw.string()});
    INFO(after.err);
    CHECK(after.exit_code == 0);

    auto dir = h.veil({"--passphrase-file", h.dir.path().string(), "version"});
    INFO(dir.err);
    CHECK(dir.exit_code == 1);
    CHECK_THAT(dir.err, Catch::Contains("is a directory"));
    CHECK_THAT(dir.err, !Catch::Contains("empty"));
}
