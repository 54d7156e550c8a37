// The sqlcipher plugin in a real veil process: the database is made on first start, a wrong
// passphrase is one clear error that exits non-zero and changes nothing, and `veil passphrase`
// sets, changes and removes the passphrase and rotates the key without losing data.
#include <catch2/catch.hpp>

#include "error.hpp"
#include "storage_test_support.hpp"
#include "support/process.hpp"
#include "vault.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;

namespace {

struct Home {
    StorageDir dir;
    std::filesystem::path home = dir / "home";
    std::filesystem::path db = home / "veil.db";
    std::string config;
    Home() {
        config = (dir / "client.toml").string();
        write_text(config, "[kernel]\nplugins = [\"sqlcipher\"]\n[sqlcipher]\ndurable_commits = false\n");
    }
    std::string file(const std::string& name, const std::string& text) const {
        auto p = dir / name;
        write_text(p, text);
        return p.string();
    }
    // `veil --config C --home H version`: starts the plugin (opening the database) and exits.
    ProcessResult start(const std::vector<std::string>& env = {}, const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> argv{veil_exe(), "--config", config, "--home", home.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back("version");
        return run(argv, env, 60000);
    }
    ProcessResult passphrase(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const {
        std::vector<std::string> argv{veil_exe(), "--home", home.string(), "passphrase"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, env, 60000);
    }
    void fill() const {
        auto v = Vault::open(db, nullptr, VaultOptions{});
        for (int i = 0; i < 20; ++i) v->db().put("messages", std::to_string(i), bytes_of("text " + std::to_string(i)));
    }
    void check_filled(const veil::crypto::SecretBytes* pp) const {
        auto v = Vault::open(db, pp, VaultOptions{});
        for (int i = 0; i < 20; ++i) CHECK(v->db().get("messages", std::to_string(i)) == bytes_of("text " + std::to_string(i)));
    }
};

}  // namespace

TEST_CASE("storage - the plugin makes an encrypted database in HOME on first start", "[storage][integration]") {
    Home h;
    auto r = h.start();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(h.db));
    CHECK(std::filesystem::exists(Vault::key_path(h.db)));
    CHECK(file_bytes(h.db).find("SQLite format 3") == std::string::npos);
    CHECK((std::filesystem::status(h.home).permissions() & std::filesystem::perms::others_all) ==
          std::filesystem::perms::none);
    r = h.start();
    CHECK(r.exit_code == 0);
}

TEST_CASE("storage - a wrong passphrase exits non-zero with one clear error and changes nothing", "[storage][integration]") {
    Home h;
    auto pw = h.file("pw", "correct horse\n");
    REQUIRE(h.start({}, {"--set", "sqlcipher.passphrase_file=" + pw}).exit_code == 0);
    auto db_before = file_bytes(h.db), key_before = file_bytes(Vault::key_path(h.db));

    auto r = h.start({"VEIL_PASSPHRASE=wrong horse"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("wrong passphrase"));
    r = h.start();
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("protected by a passphrase"));
    r = h.passphrase({"--passphrase-file", h.file("bad", "nope\n"), "--remove"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("wrong passphrase"));
    CHECK(file_bytes(h.db) == db_before);
    CHECK(file_bytes(Vault::key_path(h.db)) == key_before);
    CHECK_FALSE(std::filesystem::exists(h.home / "veil.db-wal"));

    CHECK(h.start({"VEIL_PASSPHRASE=correct horse"}).exit_code == 0);
}

TEST_CASE("storage - veil passphrase sets, changes and removes the passphrase and rekeys", "[storage][integration]") {
    Home h;
    REQUIRE(h.start().exit_code == 0);
    h.fill();
    auto one = h.file("one", "first passphrase\n");
    auto two = h.file("two", "second passphrase\n");

    auto r = h.passphrase({"--new-passphrase-file", one});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("passphrase set"));
    CHECK(h.start().exit_code == 1);
    auto p1 = secret("first passphrase"), p2 = secret("second passphrase");
    h.check_filled(&p1);

    r = h.passphrase({"--passphrase-file", one}, {"VEIL_NEW_PASSPHRASE=second passphrase"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("passphrase changed") && Catch::Contains("--rekey"));
    CHECK(h.start({"VEIL_PASSPHRASE=first passphrase"}).exit_code == 1);
    h.check_filled(&p2);

    auto key_file_before = file_bytes(Vault::key_path(h.db));
    r = h.passphrase({"--passphrase-file", two, "--rekey"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("database key rotated"));
    h.check_filled(&p2);
    // The pre-rotation key file, with its passphrase, no longer opens the database.
    auto key_file_after = file_bytes(Vault::key_path(h.db));
    write_text(Vault::key_path(h.db), key_file_before);
    CHECK_THROWS_AS(Vault::open(h.db, &p2, VaultOptions{}), Error);
    write_text(Vault::key_path(h.db), key_file_after);

    r = h.passphrase({"--passphrase-file", two, "--remove", "--rekey"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("passphrase removed") && Catch::Contains("rotated"));
    CHECK(h.start().exit_code == 0);
    h.check_filled(nullptr);
}

TEST_CASE("storage - veil passphrase usage errors and a missing database", "[storage][integration]") {
    Home h;
    auto r = h.passphrase({"--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("usage: veil passphrase") && Catch::Contains("--rekey"));
    r = h.passphrase({"--remove"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("no database") && Catch::Contains("veil init"));
    CHECK_FALSE(std::filesystem::exists(h.db));
    REQUIRE(h.start().exit_code == 0);
    r = h.passphrase({});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("nothing to do"));
    r = h.passphrase({"--frobnicate"});
    CHECK(r.exit_code == 2);
    r = h.passphrase({"--new-passphrase-file", h.file("empty", "\n")});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("is empty"));
    r = h.passphrase({"--remove"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("no passphrase"));
}
