#include "store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>
#include <sqlite3.h>

#include <cstring>

#include "veil/proto/owner_auth.hpp"

namespace veil::node {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  id        INTEGER PRIMARY KEY,
  hash      BLOB NOT NULL UNIQUE,
  mailbox   BLOB NOT NULL,
  namespace INTEGER NOT NULL,
  expiry_ms INTEGER NOT NULL,
  data      BLOB
);
CREATE INDEX IF NOT EXISTS messages_by_mailbox ON messages (mailbox, namespace, id);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages (expiry_ms);
)sql";

// Resets a cached statement when the call that used it ends.
class Use final {
public:
    explicit Use(sqlite3_stmt* s) : s_(s) {}
    ~Use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    sqlite3_stmt* operator*() const { return s_; }

    Use& blob(int i, const void* p, std::size_t n) {
        sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_STATIC);
        return *this;
    }
    template <std::size_t N>
    Use& blob(int i, const std::array<std::uint8_t, N>& a) {
        return blob(i, a.data(), N);
    }
    Use& i64(int i, std::uint64_t v) {
        sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(v));
        return *this;
    }
    // SQLITE_ROW: true, SQLITE_DONE: false, anything else throws.
    bool step() {
        int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(s_)));
    }

private:
    sqlite3_stmt* s_;
};

template <std::size_t N>
std::array<std::uint8_t, N> column_array(sqlite3_stmt* s, int col) {
    std::array<std::uint8_t, N> out{};
    if (sqlite3_column_bytes(s, col) == static_cast<int>(N)) std::memcpy(out.data(), sqlite3_column_blob(s, col), N);
    return out;
}

Bytes column_bytes(sqlite3_stmt* s, int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
    return Bytes(p, p + sqlite3_column_bytes(s, col));
}

std::string key_string(const PublicKey& k) { return std::string(k.begin(), k.end()); }

// BEGIN IMMEDIATE ... COMMIT, rolled back if the scope throws.
class Transaction final {
public:
    explicit Transaction(sqlite3* db) : db_(db) { run("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        run("COMMIT");
        done_ = true;
    }

private:
    void run(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            throw StoreError(std::string("sqlite: ") + sql + ": " + sqlite3_errmsg(db_));
    }
    sqlite3* db_;
    bool done_ = false;
};

}  // namespace

MessageStore::MessageStore(const StoreOptions& options, const Limits& limits) : limits_(limits) {
    if (sodium_init() < 0) throw StoreError("libsodium failed to initialise");
    // Create the file owner-only before SQLite does (its -wal and -shm files copy the mode).
    if (options.path != ":memory:") {
        int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
    }
    if (sqlite3_open_v2(options.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("cannot open the message database: " + msg);
    }
    try {
        if (!options.key_hex.empty()) {
            if (options.key_hex.size() != 64) throw StoreError("database key must be 64 hex digits");
            std::string pragma = "PRAGMA key = \"x'" + options.key_hex + "'\"";
            exec(pragma.c_str());
            sodium_memzero(pragma.data(), pragma.size());
        }
        // A wrong key shows up on the first read.
        if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw StoreError("message database unreadable (wrong key or not a database)");
        exec("PRAGMA journal_mode = WAL");
        exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        exec("PRAGMA secure_delete = ON");  // deleted ciphertext does not linger in free pages
        exec(kSchema);
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

MessageStore::~MessageStore() {
    // Finalize every cached statement, then close.
    for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, nullptr)) sqlite3_finalize(s);
    sqlite3_close(db_);
}

void MessageStore::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw StoreError("sqlite: " + msg);
    }
}

sqlite3_stmt* MessageStore::prepare(const char* sql) {
    // Cached by the text's address: every caller passes a string literal.
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK)
        throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    statements_.emplace(sql, s);
    return s;
}

MessageStore::Usage& MessageStore::usage_of(const PublicKey& mailbox) {
    auto [it, fresh] = usage_.try_emplace(key_string(mailbox));
    if (fresh) {
        Use q(prepare("SELECT count(*), coalesce(sum(length(data)), 0) FROM messages "
                      "WHERE mailbox = ?1 AND data IS NOT NULL"));
        q.blob(1, mailbox);
        if (q.step()) {
            it->second.messages = static_cast<std::uint64_t>(sqlite3_column_int64(*q, 0));
            it->second.bytes = static_cast<std::uint64_t>(sqlite3_column_int64(*q, 1));
        }
    }
    return it->second;
}

StoreOutcome MessageStore::store(const StoredMessage& m, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    {
        Use q(prepare("SELECT expiry_ms FROM messages WHERE hash = ?1"));
        q.blob(1, m.hash);
        if (q.step()) {
            if (static_cast<std::uint64_t>(sqlite3_column_int64(*q, 0)) > now_ms) return StoreOutcome::duplicate;
            Use del(prepare("DELETE FROM messages WHERE hash = ?1"));  // expired: store afresh
            del.blob(1, m.hash).step();
            usage_.erase(key_string(m.mailbox));
        }
    }
    Usage& u = usage_of(m.mailbox);
    if (u.messages + 1 > limits_.max_messages_per_mailbox || u.bytes + m.data.size() > limits_.max_bytes_per_mailbox)
        return StoreOutcome::quota_exceeded;
    Use ins(prepare("INSERT INTO messages (hash, mailbox, namespace, expiry_ms, data) VALUES (?1, ?2, ?3, ?4, ?5)"));
    ins.blob(1, m.hash).blob(2, m.mailbox).i64(3, m.ns).i64(4, m.expiry_ms).blob(5, m.data.data(), m.data.size());
    ins.step();
    u.messages += 1;
    u.bytes += m.data.size();
    return StoreOutcome::stored;
}

PageResponse MessageStore::retrieve(const PublicKey& mailbox, std::uint16_t ns, const PageQuery& page,
                                    std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::int64_t after_id = 0;
    if (page.after) {
        Use c(prepare("SELECT id FROM messages WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3"));
        c.blob(1, *page.after).blob(2, mailbox).i64(3, ns);
        if (c.step()) after_id = sqlite3_column_int64(*c, 0);
    }
    Use q(prepare("SELECT hash, expiry_ms, data FROM messages WHERE mailbox = ?1 AND namespace = ?2 AND id > ?3 "
                  "AND data IS NOT NULL AND expiry_ms > ?4 ORDER BY id LIMIT ?5"));
    q.blob(1, mailbox).i64(2, ns).i64(3, static_cast<std::uint64_t>(after_id)).i64(4, now_ms);
    q.i64(5, std::uint64_t{page.max_count} + 1);
    PageResponse out;
    std::size_t bytes = 0;
    while (q.step()) {
        std::size_t size = static_cast<std::size_t>(sqlite3_column_bytes(*q, 2));
        bool full = out.messages.size() >= page.max_count || (!out.messages.empty() && bytes + size > page.max_bytes);
        if (full) {
            out.more = true;
            break;
        }
        bytes += size;
        out.messages.push_back(MessageItem{column_array<32>(*q, 0),
                                           static_cast<std::uint64_t>(sqlite3_column_int64(*q, 1)),
                                           column_bytes(*q, 2)});
    }
    return out;
}

bool MessageStore::tombstone(const Hash& hash) {
    Use u(prepare("UPDATE messages SET data = NULL WHERE hash = ?1 AND data IS NOT NULL"));
    u.blob(1, hash).step();
    return sqlite3_changes(db_) > 0;
}

bool MessageStore::lower_expiry(const Hash& hash, std::uint64_t expiry_ms) {
    Use u(prepare("UPDATE messages SET expiry_ms = ?2 WHERE hash = ?1 AND expiry_ms > ?2"));
    u.blob(1, hash).i64(2, expiry_ms).step();
    return sqlite3_changes(db_) > 0;
}

std::vector<Hash> MessageStore::remove(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                                       std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    std::vector<Hash> done;
    for (const auto& h : hashes) {
        Use u(prepare("UPDATE messages SET data = NULL WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3 "
                      "AND data IS NOT NULL AND expiry_ms > ?4"));
        u.blob(1, h).blob(2, mailbox).i64(3, ns).i64(4, now_ms).step();
        if (sqlite3_changes(db_) > 0) done.push_back(h);
    }
    tx.commit();
    if (!done.empty()) usage_.erase(key_string(mailbox));
    return done;
}

std::vector<Hash> MessageStore::expire(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                                       std::uint64_t expiry_ms, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    std::vector<Hash> done;
    for (const auto& h : hashes) {
        Use u(prepare("UPDATE messages SET expiry_ms = ?5 WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3 "
                      "AND data IS NOT NULL AND expiry_ms > ?4 AND expiry_ms > ?5"));
        u.blob(1, h).blob(2, mailbox).i64(3, ns).i64(4, now_ms).i64(5, expiry_ms).step();
        if (sqlite3_changes(db_) > 0) done.push_back(h);
    }
    tx.commit();
    return done;
}

std::size_t MessageStore::sweep(std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    Use d(prepare("DELETE FROM messages WHERE expiry_ms <= ?1"));
    d.i64(1, now_ms).step();
    auto n = static_cast<std::size_t>(sqlite3_changes(db_));
    if (n > 0) usage_.clear();
    return n;
}

std::vector<MessageState> MessageStore::states(std::uint64_t now_ms,
                                               const std::function<bool(const PublicKey&)>& keep) {
    std::lock_guard lock(mutex_);
    Use q(prepare("SELECT hash, mailbox, namespace, expiry_ms, data IS NULL FROM messages WHERE expiry_ms > ?1"));
    q.i64(1, now_ms);
    std::vector<MessageState> out;
    while (q.step()) {
        MessageState s{column_array<32>(*q, 0), column_array<32>(*q, 1),
                       static_cast<std::uint16_t>(sqlite3_column_int(*q, 2)),
                       static_cast<std::uint64_t>(sqlite3_column_int64(*q, 3)), sqlite3_column_int(*q, 4) != 0};
        if (!keep || keep(s.mailbox)) out.push_back(s);
    }
    return out;
}

bool MessageStore::merge(const MessageState& s, const Bytes* data, std::uint64_t now_ms) {
    if (s.expiry_ms <= now_ms) return false;
    if (data && message_hash(s.mailbox, s.ns, *data) != s.hash) return false;  // not what it claims
    std::lock_guard lock(mutex_);
    bool exists = false;
    bool live = false;
    {
        Use q(prepare("SELECT expiry_ms, data IS NULL FROM messages WHERE hash = ?1"));
        q.blob(1, s.hash);
        if (q.step()) {
            exists = static_cast<std::uint64_t>(sqlite3_column_int64(*q, 0)) > now_ms;
            live = sqlite3_column_int(*q, 1) == 0;
            if (!exists) {
                Use del(prepare("DELETE FROM messages WHERE hash = ?1"));
                del.blob(1, s.hash).step();
            }
        }
    }
    if (!exists) {
        if (!s.deleted && !data) return false;
        Use ins(prepare("INSERT INTO messages (hash, mailbox, namespace, expiry_ms, data) VALUES (?1, ?2, ?3, ?4, ?5)"));
        ins.blob(1, s.hash).blob(2, s.mailbox).i64(3, s.ns).i64(4, s.expiry_ms);
        if (!s.deleted) ins.blob(5, data->data(), data->size());
        ins.step();
        usage_.erase(key_string(s.mailbox));
        return true;
    }
    bool changed = false;
    if (s.deleted && live) {
        changed = tombstone(s.hash);
        usage_.erase(key_string(s.mailbox));
    }
    changed = lower_expiry(s.hash, s.expiry_ms) || changed;
    return changed;
}

std::vector<StoredMessage> MessageStore::fetch(const std::vector<Hash>& hashes, std::size_t max_bytes,
                                               std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::vector<StoredMessage> out;
    std::size_t bytes = 0;
    for (const auto& h : hashes) {
        Use q(prepare("SELECT mailbox, namespace, expiry_ms, data FROM messages "
                      "WHERE hash = ?1 AND data IS NOT NULL AND expiry_ms > ?2"));
        q.blob(1, h).i64(2, now_ms);
        if (!q.step()) continue;
        auto size = static_cast<std::size_t>(sqlite3_column_bytes(*q, 3));
        if (!out.empty() && bytes + size > max_bytes) break;
        bytes += size;
        out.push_back(StoredMessage{column_array<32>(*q, 0), static_cast<std::uint16_t>(sqlite3_column_int(*q, 1)), h,
                                    static_cast<std::uint64_t>(sqlite3_column_int64(*q, 2)), column_bytes(*q, 3)});
    }
    return out;
}

std::size_t MessageStore::row_count() {
    std::lock_guard lock(mutex_);
    Use q(prepare("SELECT count(*) FROM messages"));
    return q.step() ? static_cast<std::size_t>(sqlite3_column_int64(*q, 0)) : 0;
}

}  // namespace veil::node
