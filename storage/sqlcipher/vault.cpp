#include "vault.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "error.hpp"

namespace veil::sqlcipher {

namespace fs = std::filesystem;
using crypto::SecretBytes;

namespace {

void store_keys(const fs::path& path, const KeyMaterial& keys, const SecretBytes* passphrase,
                const crypto::WrapParams& wrap) {
    auto sealed = seal_key_file(keys, passphrase, wrap);
    write_key_file(path, sealed.view());
}

bool present(const fs::path& p) {
    std::error_code ec;
    bool e = fs::exists(fs::symlink_status(p, ec));
    if (ec && ec != std::errc::no_such_file_or_directory) {
        throw Error(Failure::io, "cannot check " + p.string() + ": " + ec.message());
    }
    return e;
}

std::uintmax_t size_of(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

}  // namespace

const char* const kRestoreAdvice =
    "It is not made again empty, which would lose this identity: restore the database and its key file from a "
    "backup, or restore the identity from its recovery phrase into a new HOME "
    "(veil init --home NEW_HOME --network FILE --restore)";

fs::path Vault::key_path(const fs::path& db_path) {
    auto p = db_path;
    p += ".key";
    return p;
}

fs::path Vault::lock_path(const fs::path& db_path) {
    auto p = db_path;
    p += ".lock";
    return p;
}

Vault::~Vault() {
    db_.reset();  // close the connection before dropping the lock
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::unique_ptr<Vault> Vault::open(const fs::path& db_path, const SecretBytes* passphrase, const VaultOptions& options) {
    std::unique_ptr<Vault> v(new Vault());
    v->db_path_ = db_path;
    v->wrap_ = options.wrap;
    auto kp = key_path(db_path);
    std::error_code ec;
    bool have_db = present(db_path), have_key = present(kp);
    if (!have_db && !have_key && !options.create_if_missing) {
        throw Error(Failure::missing_file, "no database at " + db_path.string() + " (run 'veil init' first)");
    }
    // Shared: many processes may use the database. Alone (exclusive, briefly): creating it,
    // clearing temp files a crash left, and rotating the key.
    auto lp = lock_path(db_path);
    v->lock_fd_ = ::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (v->lock_fd_ < 0) throw Error(Failure::io, "cannot open " + lp.string() + ": " + std::strerror(errno));
    auto lock = [&](int how) {
        while (::flock(v->lock_fd_, how) != 0) {
            if (errno != EINTR) throw Error(Failure::io, "cannot lock " + lp.string() + ": " + std::strerror(errno));
        }
    };
    // A temp file left by a crash during a key-file write holds a key: it must not linger.
    auto clear_temp_files = [&] {
        auto prefix = kp.filename().string() + ".tmp.";
        auto dir = kp.parent_path().empty() ? fs::path(".") : kp.parent_path();
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (e.path().filename().string().starts_with(prefix)) fs::remove(e.path(), ec);
        }
    };
    if (!have_db && !have_key) {
        lock(LOCK_EX);  // nobody can hold it shared: there is no database yet
        have_db = present(db_path);  // again: another process may have just created it
        have_key = present(kp);
        clear_temp_files();
    } else if (::flock(v->lock_fd_, LOCK_EX | LOCK_NB) == 0) {
        clear_temp_files();  // only when no other process might be writing one
    }
    if (have_db || have_key) {
        lock(LOCK_SH);
        have_db = present(db_path);  // settled now: a creator held the lock exclusively until done
        have_key = present(kp);
    }
    if (!have_db && !have_key) {
        KeyMaterial keys;
        keys.current = crypto::generate_database_key();
        store_keys(kp, keys, passphrase, options.wrap);
        try {
            v->db_ = Database::create(db_path, keys.current, options.database);
        } catch (...) {
            fs::remove(kp, ec);  // no key file without its database
            throw;
        }
        v->key_ = std::move(keys.current);
        v->protection_ = passphrase ? Protection::passphrase : Protection::none;
        v->outcome_ = OpenOutcome::created;
        lock(LOCK_SH);
        return v;
    }
    if (!have_key) {
        throw Error(Failure::missing_file, "the key file " + kp.string() + " of " + db_path.string() +
                                               " is missing: without it the database cannot be opened. " +
                                               kRestoreAdvice);
    }
    if (!have_db) {
        throw Error(Failure::missing_file, "the database " + db_path.string() + " is missing but its key file " +
                                               kp.string() + " exists. " + kRestoreAdvice);
    }
    // SQLite would take a 0-byte file for a new database and fill it with an empty schema.
    if (size_of(db_path) == 0) {
        throw Error(Failure::missing_file, "the database " + db_path.string() + " is empty (0 bytes) but its key file " +
                                               kp.string() + " exists: it was truncated. " + kRestoreAdvice);
    }
    auto bytes = read_key_file(kp);
    auto view = parse_key_file(bytes.view());
    auto keys = open_key_file(view, passphrase);
    v->protection_ = view.protection;
    const SecretBytes* keep = view.protection == Protection::passphrase ? passphrase : nullptr;
    try {
        v->db_ = Database::open(db_path, keys.current, options.database);
        v->key_ = std::move(keys.current);
        if (!keys.next.empty()) {
            // The rotation never reached its rekey: forget the key it was moving to.
            KeyMaterial settled{v->key_.clone(), {}};
            store_keys(kp, settled, keep, options.wrap);
            v->outcome_ = OpenOutcome::undid_rotation;
        }
    } catch (const Error& e) {
        if (e.failure() != Failure::key_mismatch || keys.next.empty()) throw;
        // The rekey committed but the key file was not rewritten yet: the next key opens it.
        v->db_ = Database::open(db_path, keys.next, options.database);
        v->key_ = std::move(keys.next);
        KeyMaterial settled{v->key_.clone(), {}};
        store_keys(kp, settled, keep, options.wrap);
        v->outcome_ = OpenOutcome::finished_rotation;
    }
    return v;
}

void Vault::reseal(const SecretBytes* passphrase, bool rotate) {
    auto kp = key_path(db_path_);
    if (rotate) {
        if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            // A failed conversion may have dropped the shared lock: take it back.
            while (::flock(lock_fd_, LOCK_SH) != 0 && errno == EINTR) {
            }
            throw Error(Failure::busy, "another veil process is using " + db_path_.string() +
                                           ": stop it before rotating the key");
        }
        struct Downgrade {
            int fd;
            ~Downgrade() {
                while (::flock(fd, LOCK_SH) != 0 && errno == EINTR) {
                }
            }
        } downgrade{lock_fd_};
        KeyMaterial pending{key_.clone(), crypto::generate_database_key()};
        store_keys(kp, pending, passphrase, wrap_);
        db_->rekey(pending.next);
        key_ = std::move(pending.next);
    }
    store_keys(kp, KeyMaterial{key_.clone(), {}}, passphrase, wrap_);
    protection_ = passphrase ? Protection::passphrase : Protection::none;
}

}  // namespace veil::sqlcipher
