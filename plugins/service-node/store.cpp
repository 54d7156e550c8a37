#include "store.hpp"

#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <sodium.h>
#include <unistd.h>
#include <sqlcipher/sqlite3.h>

#include "veil/proto/owner_auth.hpp"

namespace veil::node {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  id         INTEGER PRIMARY KEY,
  hash       BLOB NOT NULL UNIQUE,
  mailbox    BLOB NOT NULL,
  namespace  INTEGER NOT NULL,
  expiry_ms  INTEGER NOT NULL,
  data       BLOB,
  store_auth BLOB,
  proof_hash BLOB,
  owner_ms   INTEGER NOT NULL DEFAULT 0,
  held_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_by_mailbox ON messages (mailbox, namespace, id);
CREATE TABLE IF NOT EXISTS proofs (
  hash      BLOB PRIMARY KEY,
  mailbox   BLOB NOT NULL,
  namespace INTEGER NOT NULL,
  body      BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS proofs_by_mailbox ON proofs (mailbox, namespace);
)sql";

// Created after migrate() (an older table lacks the columns until then).
constexpr const char* kProofIndex = "CREATE INDEX IF NOT EXISTS messages_by_proof ON messages (proof_hash)";
// The time a row may be swept (its expiry, or its hold when expired early): the sweep reads only
// the rows it deletes, never the held ones (an index on expiry_ms alone walked every held row).
// Built from the rows on the first opening; the index on expiry_ms it replaces goes.
constexpr const char* kSweepIndex = R"sql(
CREATE INDEX IF NOT EXISTS messages_by_sweep ON messages (max(expiry_ms, held_ms));
DROP INDEX IF EXISTS messages_by_expiry;
)sql";

// The bytes the node holds (Limits::max_stored_bytes), kept exact by triggers inside the
// transaction of every change: every row is charged row_total_bytes of its blobs and whether it
// refers to a kept proof and is live (the SQL function veil_row_bytes, registered on the
// connection). Version 1 of the accounting (PRAGMA user_version) added a flat row charge,
// version 2 the charge by pages, version 3 the proof share paid in advance, version 4 the two
// shares (expire, then delete) a live row owes: an older database drops its row triggers and sums
// its rows again once.
constexpr int kTotalsVersion = 4;

constexpr const char* kTotalsSql = R"sql(
CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO totals (id, bytes) SELECT 1,
  (SELECT coalesce(sum(veil_row_bytes(coalesce(length(data), 0) + coalesce(length(store_auth), 0),
                                      proof_hash IS NOT NULL, data IS NOT NULL)), 0) FROM messages) +
  (SELECT coalesce(sum(length(body)), 0) FROM proofs);
CREATE TRIGGER IF NOT EXISTS totals_row_added AFTER INSERT ON messages BEGIN
  UPDATE totals SET bytes = bytes + veil_row_bytes(coalesce(length(NEW.data), 0) + coalesce(length(NEW.store_auth), 0),
                                                   NEW.proof_hash IS NOT NULL, NEW.data IS NOT NULL);
END;
CREATE TRIGGER IF NOT EXISTS totals_row_removed AFTER DELETE ON messages BEGIN
  UPDATE totals SET bytes = bytes - veil_row_bytes(coalesce(length(OLD.data), 0) + coalesce(length(OLD.store_auth), 0),
                                                   OLD.proof_hash IS NOT NULL, OLD.data IS NOT NULL);
END;
CREATE TRIGGER IF NOT EXISTS totals_row_changed AFTER UPDATE OF data, store_auth, proof_hash ON messages BEGIN
  UPDATE totals SET bytes = bytes - veil_row_bytes(coalesce(length(OLD.data), 0) + coalesce(length(OLD.store_auth), 0),
                                                   OLD.proof_hash IS NOT NULL, OLD.data IS NOT NULL)
                                  + veil_row_bytes(coalesce(length(NEW.data), 0) + coalesce(length(NEW.store_auth), 0),
                                                   NEW.proof_hash IS NOT NULL, NEW.data IS NOT NULL);
END;
CREATE TRIGGER IF NOT EXISTS totals_proof_added AFTER INSERT ON proofs BEGIN
  UPDATE totals SET bytes = bytes + length(NEW.body);
END;
CREATE TRIGGER IF NOT EXISTS totals_proof_removed AFTER DELETE ON proofs BEGIN
  UPDATE totals SET bytes = bytes - length(OLD.body);
END;
)sql";

// An older accounting: forget its total and its row triggers.
constexpr const char* kTotalsBefore = R"sql(
DROP TRIGGER IF EXISTS totals_row_added;
DROP TRIGGER IF EXISTS totals_row_removed;
DROP TRIGGER IF EXISTS totals_row_changed;
DELETE FROM totals;
)sql";

// The file's pages. SQLCipher reserves room in each page for its IV and MAC: 48 bytes in
// version 3 (HMAC-SHA1), 80 in version 4 (HMAC-SHA512).
PageLayout page_layout(sqlite3* db, bool encrypted) {
    PageLayout page;
    sql::Statement size(db, "PRAGMA page_size");
    if (size.step()) page.page_bytes = static_cast<std::uint32_t>(size.column_int64(0));
    std::uint32_t reserve = 0;
    if (encrypted) {
        sql::Statement version(db, "PRAGMA cipher_version");
        reserve = version.step() && version.column_string(0).starts_with("3.") ? 48 : 80;
    }
    page.usable_bytes = page.page_bytes - reserve;
    return page;
}

// veil_row_bytes(blob_bytes, has_proof, live): row_total_bytes. The shorter forms are what
// triggers of accounting versions 2 (no proof share) and 3 (a live row's) call until the
// migration replaces them.
void row_bytes_sql(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    const auto* page = static_cast<const PageLayout*>(sqlite3_user_data(ctx));
    const auto blob = static_cast<std::uint64_t>(std::max<sqlite3_int64>(0, sqlite3_value_int64(argv[0])));
    const bool has_proof = argc > 1 && sqlite3_value_int(argv[1]) != 0;
    const bool live = argc < 3 || sqlite3_value_int(argv[2]) != 0;
    const auto bytes = argc == 1 ? row_charge_bytes(*page, blob) : row_total_bytes(*page, blob, live, has_proof);
    sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(bytes));
}

// Pages that deletes and the sweeper free go back to the disk in bounded steps (sweep). A file
// made before takes the mode only by a rebuild: VACUUM once, on opening. The copy goes to a
// temporary file (this SQLCipher keeps temporary tables in memory by default: a 205 MB file took
// 222 MB of RSS) and the rebuilt pages through the WAL, so it needs about twice the file on disk.
// Without the room, or when it fails, the file keeps its mode: the node runs as before (the cap
// still counts pages in use; only the file does not shrink). Returns why not (empty: the mode is on).
std::string use_incremental_vacuum(sqlite3* db, const std::string& path) {
    {
        sql::Statement mode(db, "PRAGMA auto_vacuum");
        if (mode.step() && mode.column_int64(0) == 2) return {};  // INCREMENTAL
    }
    bool existing = false;
    {
        sql::Statement tables(db, "SELECT count(*) FROM sqlite_master");
        existing = tables.step() && tables.column_int64(0) > 0;
    }
    if (!existing) {
        sql::exec(db, "PRAGMA auto_vacuum = INCREMENTAL");  // a new file takes it as it is made
        return {};
    }
    std::error_code file_ec, disk_ec;
    const auto file = std::filesystem::file_size(path, file_ec);
    const auto disk = std::filesystem::space(std::filesystem::absolute(path).parent_path(), disk_ec);
    if (!file_ec && !disk_ec && disk.available / 2 < file)
        return "not enough free disk for the one-time rebuild (" + std::to_string(2 * file) + " bytes)";
    try {
        sql::exec(db, "PRAGMA auto_vacuum = INCREMENTAL");
        sql::exec(db, "PRAGMA temp_store = FILE");
        sql::exec(db, "VACUUM");
    } catch (const std::exception& e) {
        sqlite3_exec(db, "PRAGMA auto_vacuum = NONE; PRAGMA temp_store = DEFAULT", nullptr, nullptr, nullptr);
        return std::string("the one-time rebuild failed: ") + e.what();
    }
    sql::exec(db, "PRAGMA temp_store = DEFAULT");
    return {};
}

int user_version(sqlite3* db) {
    sql::Statement q(db, "PRAGMA user_version");
    return q.step() ? static_cast<int>(q.column_int64(0)) : 0;
}

Hash proof_hash_of(ByteView proof) {
    Hash h{};
    crypto_generichash(h.data(), h.size(), proof.data(), proof.size(), nullptr, 0);
    return h;
}

bool has_column(sqlite3* db, const char* column) {
    std::string q = std::string("SELECT ") + column + " FROM messages LIMIT 0";
    return sqlite3_exec(db, q.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Quotas count per (mailbox, namespace): junk in one namespace never blocks another.
std::string usage_key(const PublicKey& mailbox, std::uint16_t ns) {
    std::string k(mailbox.begin(), mailbox.end());
    k.push_back(static_cast<char>(ns >> 8));
    k.push_back(static_cast<char>(ns & 0xff));
    return k;
}

}  // namespace

MessageStore::MessageStore(const StoreOptions& options, const Limits& limits) : limits_(limits) {
    if (sodium_init() < 0) throw StoreError(sql::Failure::io, "libsodium failed to initialise");
    // Create the file owner-only before SQLite does (its -wal and -shm files copy the mode).
    if (options.path != ":memory:") {
        int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
    }
    if (sqlite3_open_v2(options.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError(sql::Failure::io, "cannot open the message database: " + msg);
    }
    try {
        if (!options.key_hex.empty()) {
            if (options.key_hex.size() != 64) throw StoreError(sql::Failure::bad_input, "database key must be 64 hex digits");
            std::string pragma = "PRAGMA key = \"x'" + options.key_hex + "'\"";
            sql::exec(db_, pragma);
            sodium_memzero(pragma.data(), pragma.size());
        }
        // A wrong key shows up on the first read.
        if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw StoreError(sql::Failure::key_mismatch, "message database unreadable (wrong key or not a database)");
        page_ = page_layout(db_, !options.key_hex.empty());
        for (int args : {1, 2, 3})
            if (sqlite3_create_function(db_, "veil_row_bytes", args, SQLITE_UTF8 | SQLITE_DETERMINISTIC, &page_,
                                        row_bytes_sql, nullptr, nullptr) != SQLITE_OK)
                throw StoreError(sql::Failure::io, "cannot register the row charge");
        compaction_off_ = use_incremental_vacuum(db_, options.path);
        sql::exec(db_, "PRAGMA journal_mode = WAL");
        sql::exec(db_, options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        sql::exec(db_, "PRAGMA secure_delete = ON");  // deleted ciphertext does not linger in free pages
        sql::exec(db_, kSchema);
        migrate();
        sql::exec(db_, kProofIndex);
        sql::exec(db_, kSweepIndex);
        update_totals();
        // The pages of an empty store (the first page, each table's and index's root, the first
        // pointer-map page): not charged, so the measure by pages starts at zero as the model does.
        sql::Statement roots(db_, "SELECT count(*) FROM sqlite_master WHERE rootpage > 0");
        empty_pages_ = roots.step() ? static_cast<std::uint64_t>(roots.column_int64(0)) + 2 : 2;
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

void MessageStore::migrate() {
    // Older databases: add the columns (their rows have no store auth and no owner time).
    for (const char* column : {"store_auth BLOB", "proof_hash BLOB", "owner_ms INTEGER NOT NULL DEFAULT 0",
                               "held_ms INTEGER NOT NULL DEFAULT 0"}) {
        std::string name(column, std::string_view(column).find(' '));
        if (!has_column(db_, name.c_str())) sql::exec(db_, "ALTER TABLE messages ADD COLUMN " + std::string(column));
    }
    // When the owner signed each proof: the quota forgets the oldest signed, not the oldest arrived.
    if (sqlite3_exec(db_, "SELECT signed_ms FROM proofs LIMIT 0", nullptr, nullptr, nullptr) != SQLITE_OK)
        sql::exec(db_, "ALTER TABLE proofs ADD COLUMN signed_ms INTEGER NOT NULL DEFAULT 0");
    if (!has_column(db_, "proof")) return;  // a database from before per-row proofs, or a new one
    // Proofs were once kept per row: keep each once and refer to it.
    sql::Transaction tx(db_);
    sql::Statement rows(db_, "SELECT hash, mailbox, namespace, proof FROM messages WHERE length(proof) > 0");
    while (rows.step()) {
        Bytes proof = rows.column_bytes(3);
        Hash ph = proof_hash_of(proof);
        sql::Statement keep(db_, "INSERT OR IGNORE INTO proofs (hash, mailbox, namespace, body) VALUES (?1, ?2, ?3, ?4)");
        keep.blob(1, ph).blob(2, rows.column_array<32>(1)).int64(3, rows.column_int64(2)).blob(4, proof).step();
        sql::Statement ref(db_, "UPDATE messages SET proof_hash = ?2 WHERE hash = ?1");
        ref.blob(1, rows.column_array<32>(0)).blob(2, ph).step();
    }
    rows.reset();
    // The old column stays (this SQLite has no DROP COLUMN), empty.
    sql::exec(db_, "UPDATE messages SET proof = NULL WHERE proof IS NOT NULL");
    tx.commit();
}

void MessageStore::update_totals() {
    sql::Transaction tx(db_);
    const bool old = user_version(db_) < kTotalsVersion;
    if (old && sqlite3_exec(db_, "SELECT 1 FROM totals LIMIT 0", nullptr, nullptr, nullptr) == SQLITE_OK)
        sql::exec(db_, kTotalsBefore);
    sql::exec(db_, kTotalsSql);
    if (old) sql::exec(db_, "PRAGMA user_version = " + std::to_string(kTotalsVersion));
    tx.commit();
}

MessageStore::~MessageStore() {
    statements_.clear();  // finalized before the close
    sqlite3_close(db_);
}

sql::Statement& MessageStore::prepare(const char* text) {
    // Cached by the text's address: every caller passes a string literal.
    auto& s = statements_[text];
    if (!s) s = std::make_unique<sql::Statement>(db_, text);
    return *s;
}

MessageStore::Usage& MessageStore::usage_of(const PublicKey& mailbox, std::uint16_t ns) {
    auto [it, fresh] = usage_.try_emplace(usage_key(mailbox, ns));
    if (fresh) {
        auto& q = prepare("SELECT coalesce(sum(data IS NOT NULL), 0), coalesce(sum(length(data)), 0), "
                          "coalesce(sum(data IS NULL), 0) FROM messages WHERE mailbox = ?1 AND namespace = ?2");
        sql::ScopedReset q_done(q);
        q.blob(1, mailbox).uint64(2, ns);
        if (q.step()) {
            it->second.messages = q.column_uint64(0);
            it->second.bytes = q.column_uint64(1);
            it->second.tombstones = q.column_uint64(2);
        }
        auto& p = prepare("SELECT coalesce(sum(length(body)), 0) FROM proofs WHERE mailbox = ?1 AND namespace = ?2");
        sql::ScopedReset p_done(p);
        p.blob(1, mailbox).uint64(2, ns);
        if (p.step()) it->second.proof_bytes = p.column_uint64(0);
    }
    return it->second;
}

bool MessageStore::proof_is_dense(const PublicKey& mailbox, std::uint16_t ns, std::size_t proof_bytes,
                                  const std::vector<Hash>& named, const std::set<Hash>* also_held) {
    // A proof of n hashes is ~150 + 32n bytes: one that names mostly hashes this node never held
    // (padding), or one held hash many times, would hold far more bytes than the rows it changes.
    constexpr std::size_t kProofBaseBytes = 256;  // a one-row proof with room to spare
    constexpr std::size_t kProofBytesPerRow = 64;
    ++density_checks_;
    std::size_t held = 0;
    std::set<Hash> counted;
    auto& q = prepare("SELECT 1 FROM messages WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3");
    for (const auto& h : named) {
        if (proof_bytes <= kProofBaseBytes + kProofBytesPerRow * held) return true;
        if (!counted.insert(h).second) continue;  // a repeat holds no second row
        if (also_held && also_held->contains(h)) {
            ++held;
            continue;
        }
        sql::ScopedReset q_done(q);
        q.blob(1, h).blob(2, mailbox).uint64(3, ns);
        if (q.step()) ++held;
    }
    return proof_bytes <= kProofBaseBytes + kProofBytesPerRow * held;
}

bool MessageStore::keep_proof(const PublicKey& mailbox, std::uint16_t ns, ByteView proof, std::uint64_t signed_ms,
                              const std::vector<Hash>& named, Hash& proof_hash, ProofInBatch* batch) {
    proof_hash = proof_hash_of(proof);
    {
        auto& q = prepare("SELECT 1 FROM proofs WHERE hash = ?1");
        sql::ScopedReset q_done(q);
        q.blob(1, proof_hash);
        if (q.step()) return true;  // kept already: costs nothing more
    }
    if (proof.size() > limits_.max_proof_bytes_per_mailbox) return false;
    // Decided once per replicate request: every op citing a padded proof would look it up again.
    std::optional<bool> dense = batch ? batch->dense : std::nullopt;
    if (!dense) dense = proof_is_dense(mailbox, ns, proof.size(), named, batch ? &batch->tombstoned : nullptr);
    if (batch) batch->dense = dense;
    if (!*dense) return false;
    Usage& u = usage_of(mailbox, ns);
    // Past the quota the oldest signed proofs go, never a newer one for an older: a member
    // replaying the owner's old proofs cannot push out the owner's newest.
    while (u.proof_bytes + proof.size() > limits_.max_proof_bytes_per_mailbox) {
        auto forgot = forget_oldest_proof(mailbox, ns, signed_ms, u);
        if (forgot == Forgot::newer) return false;
        if (forgot == Forgot::none) break;
    }
    auto& ins = prepare("INSERT INTO proofs (hash, mailbox, namespace, body, signed_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    sql::ScopedReset ins_done(ins);
    ins.blob(1, proof_hash).blob(2, mailbox).uint64(3, ns).blob(4, proof).uint64(5, signed_ms).step();
    u.proof_bytes += proof.size();
    return true;
}

MessageStore::Forgot MessageStore::forget_oldest_proof(const PublicKey& mailbox, std::uint16_t ns,
                                                       std::uint64_t than_ms, Usage& u) {
    Hash oldest{};
    std::uint64_t size = 0;
    {
        auto& q = prepare("SELECT hash, length(body), signed_ms FROM proofs WHERE mailbox = ?1 AND namespace = ?2 "
                          "ORDER BY signed_ms, rowid LIMIT 1");
        sql::ScopedReset q_done(q);
        q.blob(1, mailbox).uint64(2, ns);
        if (!q.step()) return Forgot::none;
        if (q.column_uint64(2) > than_ms) return Forgot::newer;
        oldest = q.column_array<32>(0);
        size = q.column_uint64(1);
    }
    // Its rows stay as they are here (a tombstone stays deleted); only catch-up can no longer
    // pass the change on from this node.
    auto& unref = prepare("UPDATE messages SET proof_hash = NULL WHERE proof_hash = ?1");
    sql::ScopedReset unref_done(unref);
    unref.blob(1, oldest).step();
    auto& del = prepare("DELETE FROM proofs WHERE hash = ?1");
    sql::ScopedReset del_done(del);
    del.blob(1, oldest).step();
    u.proof_bytes -= std::min(u.proof_bytes, size);
    return Forgot::older;
}

MailboxFill MessageStore::fill(const PublicKey& mailbox, std::uint16_t ns) {
    std::lock_guard lock(mutex_);
    const Usage& u = usage_of(mailbox, ns);
    return {u.messages, u.bytes, limits_.max_messages_per_mailbox, limits_.max_bytes_per_mailbox};
}

bool MessageStore::paid(const Usage& u, std::size_t data_bytes, Payment& payment, std::uint64_t filled) {
    // The node's bytes have a price for everyone (free keypairs make free mailboxes); a
    // stranger's envelope also pays for its share of the mailbox. One proof meets the higher.
    payment.asked_work = node_store_work(limits_, filled, row_charge_bytes(page_, data_bytes), payment.ttl_ms);
    if (payment.by_mailbox) {
        const MailboxFill fill{u.messages, u.bytes, limits_.max_messages_per_mailbox, limits_.max_bytes_per_mailbox};
        payment.asked_work = std::max(payment.asked_work, required_store_work(limits_.work, fill, data_bytes, payment.ttl_ms));
    }
    return payment.asked_work <= payment.proven_work;
}

std::uint64_t MessageStore::stored_bytes_locked() {
    auto& q = prepare("SELECT bytes FROM totals WHERE id = 1");
    sql::ScopedReset q_done(q);
    return q.step() ? q.column_uint64(0) : 0;
}

std::uint64_t MessageStore::stored_bytes() {
    std::lock_guard lock(mutex_);
    return stored_bytes_locked();
}

std::uint64_t MessageStore::filled_bytes() {
    std::lock_guard lock(mutex_);
    return filled_bytes_locked();
}

std::uint64_t MessageStore::filled_bytes_locked() {
    // The rows' model, or the pages in use when more: rows deleted or expired out of the middle
    // of a page leave it in use, and new rows take new pages.
    return std::max(stored_bytes_locked(), page_bytes_in_use_locked());
}

std::uint64_t MessageStore::page_bytes_in_use_locked() {
    auto pragma = [this](const char* text) {
        auto& q = prepare(text);
        sql::ScopedReset q_done(q);
        return q.step() ? q.column_uint64(0) : 0;
    };
    const std::uint64_t pages = pragma("PRAGMA page_count");
    const std::uint64_t in_use = pages - std::min(pages, pragma("PRAGMA freelist_count") + empty_pages_);
    return in_use * page_.page_bytes;
}

bool MessageStore::node_fits(std::size_t bytes, std::uint64_t filled) { return filled + bytes <= limits_.max_stored_bytes; }

bool MessageStore::row_fits(std::size_t blob_bytes, bool live, std::uint64_t filled) {
    return node_fits(row_total_bytes(page_, blob_bytes, live, !live), filled);
}

std::uint64_t MessageStore::row_generation(std::uint64_t owner_ms, const Payment* payment) const {
    // Only what travels with the row, so every member holds the same generation however and
    // whenever the row reached it (never its arrival: a member replaying an old row would make it
    // newer than the owner's delete). The owner's signature time; else a stranger's work
    // timestamp less the clock window (its owner may have fetched it that early); else none:
    // every owner proof then applies.
    if (owner_ms > 0) return owner_ms;
    if (!payment || payment->work_ms == 0) return 0;
    return payment->work_ms - std::min(payment->work_ms, limits_.clock_window_ms);
}

bool MessageStore::keep_proof_for(const PublicKey& mailbox, std::uint16_t ns, const OwnerProof& proof, bool deletes,
                                  const std::vector<Hash>& named, const std::vector<Hash>& changed,
                                  std::uint64_t total_before, ProofInBatch* batch) {
    if (changed.empty() || proof.bytes.empty()) return false;  // a proof that changed nothing holds nothing
    // Rows this request changed before, whose shares alone did not pay for the proof, join in.
    std::vector<Hash> rows = changed;
    std::uint64_t before = total_before;
    if (batch) {
        rows.insert(rows.end(), batch->waiting.begin(), batch->waiting.end());
        before += batch->freed_bytes;
    }
    // Deletes and expiries are never priced: above the free fraction a proof is kept only when
    // the change freed at least its bytes, counting the shares its rows paid in advance and the
    // proofs it replaced, or an owner could grow the node to its cap for free.
    // Both by what the file costs (filled_bytes_locked): pages left part full by rows swept out
    // of their middle count, so the node's pages cannot pass the cap through kept proofs.
    const std::uint64_t pages_before = page_bytes_in_use_locked();
    const bool free = node_store_work(limits_, std::max(stored_bytes_locked(), pages_before), proof.bytes.size(),
                                      limits_.max_ttl_ms) == 0;
    sql::exec(db_, "SAVEPOINT keep_proof");
    Hash proof_hash{};
    bool kept = keep_proof(mailbox, ns, proof.bytes, proof.signed_ms, named, proof_hash, batch) &&
                refer_to_proof(rows, proof_hash, deletes);
    // A kept proof is stored bytes like any other: one that grew the node, in its rows' model or
    // in pages (a proof paid for by freed bytes may still take a new page), fits its cap.
    const std::uint64_t after = stored_bytes_locked();
    const std::uint64_t pages_after = page_bytes_in_use_locked();
    const bool grew = after > before || pages_after > pages_before;
    if (kept && grew && (!free || std::max(after, pages_after) > limits_.max_stored_bytes)) kept = false;
    if (!kept) sql::exec(db_, "ROLLBACK TO keep_proof");
    sql::exec(db_, "RELEASE keep_proof");
    usage_.erase(usage_key(mailbox, ns));  // its proof bytes changed, or were rolled back
    if (batch && kept) {
        batch->waiting.clear();
        batch->freed_bytes = 0;
    } else if (batch) {
        batch->waiting.insert(batch->waiting.end(), changed.begin(), changed.end());
        batch->freed_bytes += total_before - std::min(total_before, stored_bytes_locked());
    }
    return kept;
}

bool MessageStore::refer_to_proof(const std::vector<Hash>& rows, const Hash& proof_hash, bool deletes) {
    bool referred = false;
    for (const auto& h : rows) {
        std::optional<Hash> old;
        {
            auto& q = prepare("SELECT proof_hash FROM messages WHERE hash = ?1 AND length(proof_hash) = 32");
            sql::ScopedReset q_done(q);
            q.blob(1, h);
            if (q.step()) old = q.column_array<32>(0);
        }
        // An expire proof never replaces a tombstone's delete proof.
        auto& ref = prepare("UPDATE messages SET proof_hash = ?2 WHERE hash = ?1 AND (?3 OR data IS NOT NULL)");
        sql::ScopedReset ref_done(ref);
        ref.blob(1, h).blob(2, proof_hash).int64(3, deletes ? 1 : 0).step();
        if (sqlite3_changes(db_) == 0) continue;
        referred = true;
        if (!old || *old == proof_hash) continue;
        // The proof it replaces goes now when no row refers to it, not at the next sweep.
        auto& drop = prepare("DELETE FROM proofs WHERE hash = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE proof_hash = ?1)");
        sql::ScopedReset drop_done(drop);
        drop.blob(1, *old).step();
    }
    return referred;
}

StoreOutcome MessageStore::store(const StoredMessage& m, std::uint64_t now_ms, std::uint64_t owner_ms,
                                 std::uint64_t* held_expiry_ms, Payment* payment) {
    std::lock_guard lock(mutex_);
    if (held_expiry_ms) *held_expiry_ms = m.expiry_ms;
    {
        auto& q = prepare("SELECT expiry_ms, data IS NULL, owner_ms, coalesce(length(store_auth), 0), held_ms "
                          "FROM messages WHERE hash = ?1");
        sql::ScopedReset q_done(q);
        q.blob(1, m.hash);
        if (q.step()) {
            std::uint64_t expiry = q.column_uint64(0);
            bool deleted = q.column_int64(1) != 0;
            if (expiry <= now_ms && q.column_uint64(4) > now_ms) {
                // Expired early by its owner and held until the expiry it had: a retry (anyone's,
                // the owner's too) leaves it held, or this node would serve it again while the
                // other members hold it, until catch-up.
                if (held_expiry_ms) *held_expiry_ms = expiry;
                // The owner signing after its expire is told so (not an ok with an expiry past).
                if (owner_ms > q.column_uint64(2)) return StoreOutcome::held;
                return StoreOutcome::duplicate;
            }
            if (expiry > now_ms) {
                // The answer names the expiry actually held. Only the owner's re-store extends
                // it (a tombstone stays as it is: a deleted message is not stored again), and it
                // becomes the row's newest owner action: older proofs no longer apply. Keeping
                // bytes longer is priced as storing them: above the node's free fraction a
                // refresh pays, or a paid fill would be kept for ever for free.
                // A newer store auth replaces the row's: when larger (a stranger's row signed
                // anew by its owner) it adds bytes, priced and capped like a new store's.
                const bool refresh = owner_ms > 0 && !deleted && m.expiry_ms > expiry;
                const bool new_auth = owner_ms > 0 && !deleted && q.column_uint64(2) < owner_ms;
                const std::uint64_t held_auth = q.column_uint64(3);
                const std::uint64_t growth = new_auth && m.store_auth.size() > held_auth ? m.store_auth.size() - held_auth : 0;
                const std::uint64_t filled = refresh || growth > 0 ? filled_bytes_locked() : 0;
                if ((refresh || growth > 0) && payment && !paid(usage_of(m.mailbox, m.ns), m.data.size(), *payment, filled))
                    return StoreOutcome::unpaid;
                if (growth > 0 && !node_fits(row_charge_bytes(page_, m.data.size() + held_auth + growth) -
                                             row_charge_bytes(page_, m.data.size() + held_auth), filled))
                    return StoreOutcome::node_full;
                if (owner_ms > 0 && !deleted) {
                    auto& up = prepare("UPDATE messages SET expiry_ms = max(expiry_ms, ?2), "
                                       "store_auth = CASE WHEN owner_ms < ?3 THEN ?4 ELSE store_auth END, "
                                       "owner_ms = max(owner_ms, ?3) WHERE hash = ?1");
                    sql::ScopedReset up_done(up);
                    up.blob(1, m.hash).uint64(2, m.expiry_ms).uint64(3, owner_ms).blob(4, m.store_auth).step();
                    expiry = std::max(expiry, m.expiry_ms);
                }
                if (held_expiry_ms) *held_expiry_ms = expiry;
                return StoreOutcome::duplicate;
            }
            auto& del = prepare("DELETE FROM messages WHERE hash = ?1");  // expired: store afresh
            sql::ScopedReset del_done(del);
            del.blob(1, m.hash).step();
            usage_.erase(usage_key(m.mailbox, m.ns));
        }
    }
    // Priced from the fill in the same step as the insert (a message already held is free, above).
    Usage& u = usage_of(m.mailbox, m.ns);
    // The pages in use are read once a store (two pragmas): the price and the cap see the same.
    const std::uint64_t filled = filled_bytes_locked();
    if (payment && !paid(u, m.data.size(), *payment, filled)) return StoreOutcome::unpaid;
    if (u.messages + 1 > limits_.max_messages_per_mailbox || u.bytes + m.data.size() > limits_.max_bytes_per_mailbox)
        return StoreOutcome::quota_exceeded;
    if (!row_fits(m.data.size() + m.store_auth.size(), true, filled)) return StoreOutcome::node_full;
    auto& ins = prepare("INSERT INTO messages (hash, mailbox, namespace, expiry_ms, data, store_auth, owner_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    sql::ScopedReset ins_done(ins);
    ins.blob(1, m.hash).blob(2, m.mailbox).uint64(3, m.ns).uint64(4, m.expiry_ms).blob(5, m.data);
    if (!m.store_auth.empty()) ins.blob(6, m.store_auth);
    // No owner proof signed before the row applies to it (a replayed old expire would hide an
    // identical re-store).
    ins.uint64(7, row_generation(owner_ms, payment));
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
        auto& c = prepare("SELECT id FROM messages WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3");
        sql::ScopedReset c_done(c);
        c.blob(1, *page.after).blob(2, mailbox).uint64(3, ns);
        if (c.step()) after_id = c.column_int64(0);
    }
    auto& q = prepare("SELECT hash, expiry_ms, data FROM messages WHERE mailbox = ?1 AND namespace = ?2 AND id > ?3 "
                      "AND data IS NOT NULL AND expiry_ms > ?4 ORDER BY id LIMIT ?5");
    sql::ScopedReset q_done(q);
    q.blob(1, mailbox).uint64(2, ns).int64(3, after_id).uint64(4, now_ms);
    q.uint64(5, std::uint64_t{page.max_count} + 1);
    PageResponse out;
    std::size_t bytes = 0;
    while (q.step()) {
        std::size_t size = q.column_size(2);
        bool full = out.messages.size() >= page.max_count || (!out.messages.empty() && bytes + size > page.max_bytes);
        if (full) {
            out.more = true;
            break;
        }
        bytes += size;
        out.messages.push_back(MessageItem{q.column_array<32>(0), q.column_uint64(1), q.column_bytes(2)});
    }
    return out;
}

bool MessageStore::tombstone(const Hash& hash, const Hash* proof_hash, std::uint64_t owner_ms) {
    // A tombstone needs no store auth (nothing will be stored again under it): its bytes go.
    // The row keeps its earlier proof (and the share it released) unless this one is kept.
    // Kept until the expiry it had before any early expire: the same state on every member,
    // whichever of the owner's changes reached it.
    auto& u = prepare("UPDATE messages SET data = NULL, store_auth = NULL, proof_hash = coalesce(?2, proof_hash), "
                      "owner_ms = ?3, expiry_ms = max(expiry_ms, held_ms) "
                      "WHERE hash = ?1 AND data IS NOT NULL AND owner_ms <= ?3");
    sql::ScopedReset u_done(u);
    u.blob(1, hash).uint64(3, owner_ms);
    if (proof_hash) u.blob(2, *proof_hash);
    u.step();
    return sqlite3_changes(db_) > 0;
}

bool MessageStore::lower_expiry(const Hash& hash, std::uint64_t expiry_ms, const Hash* proof_hash,
                                std::uint64_t owner_ms) {
    // Live rows only: a tombstone is unserved already and kept until the expiry it had (tombstone()),
    // with its delete proof. A row keeps the expire proof that lowered it, or its earlier one when
    // this proof is not kept (padded): a reference is never dropped for none.
    // Held until the expiry it had: a member that missed this change cannot bring it back.
    auto& u = prepare("UPDATE messages SET expiry_ms = ?2, owner_ms = ?4, held_ms = max(held_ms, expiry_ms), "
                      "proof_hash = coalesce(?3, proof_hash) "
                      "WHERE hash = ?1 AND data IS NOT NULL AND expiry_ms > ?2 AND owner_ms <= ?4");
    sql::ScopedReset u_done(u);
    u.blob(1, hash).uint64(2, expiry_ms).uint64(4, owner_ms);
    if (proof_hash) u.blob(3, *proof_hash);
    u.step();
    return sqlite3_changes(db_) > 0;
}

std::vector<Hash> MessageStore::remove(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                                       std::uint64_t now_ms, const OwnerProof& proof) {
    std::lock_guard lock(mutex_);
    sql::Transaction tx(db_);
    const std::uint64_t before = stored_bytes_locked();
    const std::uint64_t signed_ms = proof.bytes.empty() ? now_ms : proof.signed_ms;  // no proof: a local caller, now
    std::vector<Hash> done;
    for (const auto& h : hashes) {
        // The row keeps its earlier proof unless this one is kept (its delete proof is paid by
        // the share the row still owes), and the expiry it had before any early expire.
        auto& u = prepare("UPDATE messages SET data = NULL, store_auth = NULL, owner_ms = max(owner_ms, ?5), "
                          "expiry_ms = max(expiry_ms, held_ms) WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3 AND data IS NOT NULL "
                          "AND expiry_ms > ?4 AND owner_ms <= ?5");
        sql::ScopedReset u_done(u);
        u.blob(1, h).blob(2, mailbox).uint64(3, ns).uint64(4, now_ms).uint64(5, signed_ms);
        u.step();
        if (sqlite3_changes(db_) > 0) done.push_back(h);
    }
    // Never refused: a proof that cannot be kept leaves the rows without one (not passed on).
    keep_proof_for(mailbox, ns, proof, true, hashes, done, before);
    tx.commit();
    usage_.erase(usage_key(mailbox, ns));
    return done;
}

std::vector<Hash> MessageStore::expire(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                                       std::uint64_t expiry_ms, std::uint64_t now_ms, const OwnerProof& proof) {
    std::lock_guard lock(mutex_);
    sql::Transaction tx(db_);
    const std::uint64_t before = stored_bytes_locked();
    const std::uint64_t signed_ms = proof.bytes.empty() ? now_ms : proof.signed_ms;  // no proof: a local caller, now
    std::vector<Hash> done;
    for (const auto& h : hashes) {
        // A row keeps its earlier proof unless this one is kept (keep_proof_for).
        // Held until the expiry it had: a member that missed this change cannot bring it back.
        auto& u = prepare("UPDATE messages SET expiry_ms = ?5, owner_ms = max(owner_ms, ?6), "
                          "held_ms = max(held_ms, expiry_ms) WHERE hash = ?1 AND mailbox = ?2 AND namespace = ?3 AND data IS NOT NULL "
                          "AND expiry_ms > ?4 AND expiry_ms > ?5 AND owner_ms <= ?6");
        sql::ScopedReset u_done(u);
        u.blob(1, h).blob(2, mailbox).uint64(3, ns).uint64(4, now_ms).uint64(5, expiry_ms).uint64(6, signed_ms);
        u.step();
        if (sqlite3_changes(db_) > 0) done.push_back(h);
    }
    keep_proof_for(mailbox, ns, proof, false, hashes, done, before);
    tx.commit();
    return done;
}

std::size_t MessageStore::sweep(std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    // A row the owner expired early stays (unserved) until the expiry it had: held_ms.
    auto& d = prepare(kSweepSql);
    sql::ScopedReset d_done(d);
    d.uint64(1, now_ms).step();
    auto n = static_cast<std::size_t>(sqlite3_changes(db_));
    // Proofs no row refers to any more (swept, or replaced by a later proof).
    auto& p = prepare("DELETE FROM proofs WHERE NOT EXISTS (SELECT 1 FROM messages WHERE proof_hash = proofs.hash)");
    sql::ScopedReset p_done(p);
    p.step();
    if (n > 0 || sqlite3_changes(db_) > 0) usage_.clear();
    // Free pages back to the disk, a bounded number a sweep: the file follows what the node holds.
    sql::exec(db_, "PRAGMA incremental_vacuum(" + std::to_string(kCompactBytesPerSweep / page_.page_bytes) + ")");
    return n;
}

std::vector<MessageState> MessageStore::states(std::uint64_t now_ms,
                                               const std::function<bool(const PublicKey&)>& keep) {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT hash, mailbox, namespace, expiry_ms, data IS NULL FROM messages "
                      "WHERE max(expiry_ms, held_ms) > ?1");
    sql::ScopedReset q_done(q);
    q.uint64(1, now_ms);
    std::vector<MessageState> out;
    while (q.step()) {
        MessageState s{q.column_array<32>(0), q.column_array<32>(1), static_cast<std::uint16_t>(q.column_int64(2)),
                       q.column_uint64(3), q.column_int64(4) != 0};
        if (!keep || keep(s.mailbox)) out.push_back(s);
    }
    return out;
}

Summary MessageStore::summary(std::uint64_t now_ms, const std::function<bool(const PublicKey&)>& keep) {
    SummaryBuilder summary;
    Bytes after;  // the empty blob sorts below every hash
    for (std::size_t read = kSummaryChunk; read == kSummaryChunk;) {
        std::lock_guard lock(mutex_);
        auto& q = prepare("SELECT hash, mailbox, namespace, expiry_ms, data IS NULL FROM messages "
                          "WHERE hash > ?1 AND max(expiry_ms, held_ms) > ?2 ORDER BY hash LIMIT ?3");
        sql::ScopedReset q_done(q);
        q.blob(1, after).uint64(2, now_ms).uint64(3, kSummaryChunk);
        read = 0;
        while (q.step()) {
            ++read;
            MessageState s{q.column_array<32>(0), q.column_array<32>(1), static_cast<std::uint16_t>(q.column_int64(2)),
                           q.column_uint64(3), q.column_int64(4) != 0};
            after.assign(s.hash.begin(), s.hash.end());
            if (!keep || keep(s.mailbox)) summary.add(s);
        }
    }
    return summary.finish();
}

std::vector<MessageState> MessageStore::states_of(const std::vector<Hash>& hashes, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT mailbox, namespace, expiry_ms, data IS NULL FROM messages WHERE hash = ?1 "
                      "AND max(expiry_ms, held_ms) > ?2");
    std::vector<MessageState> out;
    for (const auto& h : hashes) {
        sql::ScopedReset q_done(q);
        q.blob(1, h).uint64(2, now_ms);
        if (q.step())
            out.push_back(MessageState{h, q.column_array<32>(0), static_cast<std::uint16_t>(q.column_int64(1)),
                                       q.column_uint64(2), q.column_int64(3) != 0});
    }
    return out;
}

BucketPage MessageStore::bucket_page(std::uint8_t bucket, const std::optional<Hash>& after, std::uint64_t now_ms,
                                     const std::function<bool(const PublicKey&)>& keep, std::size_t max_states,
                                     std::size_t max_bytes) {
    // Blobs compare as memcmp, shorter first on a tie: the one-byte blob {b} sorts below every
    // hash of bucket b, and {b + 1} (33 bytes of 0xff after the last bucket) above them all.
    Bytes low{bucket};
    if (after && std::lexicographical_compare(low.begin(), low.end(), after->begin(), after->end()))
        low.assign(after->begin(), after->end());
    Bytes high = bucket == 0xff ? Bytes(33, 0xff) : Bytes{static_cast<std::uint8_t>(bucket + 1)};
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT m.hash, m.mailbox, m.namespace, m.expiry_ms, m.data IS NULL, p.body FROM messages m "
                      "LEFT JOIN proofs p ON p.hash = m.proof_hash "
                      "WHERE m.hash > ?1 AND m.hash < ?2 AND max(m.expiry_ms, m.held_ms) > ?3 ORDER BY m.hash");
    sql::ScopedReset q_done(q);
    q.blob(1, low).blob(2, high).uint64(3, now_ms);
    BucketPage page;
    std::size_t bytes = 0;
    while (q.step()) {
        MessageState s{q.column_array<32>(0), q.column_array<32>(1), static_cast<std::uint16_t>(q.column_int64(2)),
                       q.column_uint64(3), q.column_int64(4) != 0};
        if (keep && !keep(s.mailbox)) continue;
        if (page.states.size() >= max_states || bytes >= max_bytes) {
            page.more = true;
            break;
        }
        ReplicaOp op{s, std::nullopt, nullptr};
        if (q.column_size(5) > 0) op.proof = std::make_shared<const Bytes>(q.column_bytes(5));
        bytes += 128 + (op.proof ? op.proof->size() : 0);
        page.states.push_back(std::move(op));
    }
    return page;
}

bool MessageStore::merge(const ReplicaChange& c, std::uint64_t now_ms) {
    const MessageState& s = c.state;
    // A proven expiry may lie in the past: the owner expired the row while this member was away,
    // and it is held (unserved) here too, as on the members that applied it in time.
    const bool proven_lowering = c.proof && !c.data && !s.deleted;
    if (s.expiry_ms <= now_ms && !proven_lowering) return false;
    if (c.data && message_hash(s.mailbox, s.ns, *c.data) != s.hash) return false;  // not what it claims
    std::lock_guard lock(mutex_);
    bool exists = false;
    bool live = false;
    bool same_mailbox = false;
    {
        // A held row (expired early by its owner) still exists: a member that missed the expire
        // cannot bring it back.
        auto& q = prepare("SELECT max(expiry_ms, held_ms), data IS NULL, mailbox, namespace FROM messages WHERE hash = ?1");
        sql::ScopedReset q_done(q);
        q.blob(1, s.hash);
        if (q.step()) {
            exists = q.column_uint64(0) > now_ms;
            live = q.column_int64(1) == 0;
            same_mailbox = q.column_array<32>(2) == s.mailbox && q.column_int64(3) == s.ns;
            if (!exists) {
                auto& del = prepare("DELETE FROM messages WHERE hash = ?1");
                sql::ScopedReset del_done(del);
                del.blob(1, s.hash).step();
                usage_.erase(usage_key(q.column_array<32>(2), static_cast<std::uint16_t>(q.column_int64(3))));
            }
        }
    }
    Hash proof_hash{};
    const std::vector<Hash> own_hash{s.hash};
    const std::vector<Hash>& named = c.proof_hashes ? *c.proof_hashes : own_hash;
    if (!exists) {
        if (s.expiry_ms <= now_ms) return false;
        // A new message needs its data (which proves its hash); a new tombstone, the owner's
        // proof. Either counts against the namespace's quota, as a client's store would.
        if (s.deleted ? !c.proof : !c.data) return false;
        Usage& u = usage_of(s.mailbox, s.ns);
        bool fits = s.deleted ? u.tombstones + 1 <= limits_.max_tombstones_per_mailbox
                              : u.messages + 1 <= limits_.max_messages_per_mailbox &&
                                    u.bytes + c.data->size() <= limits_.max_bytes_per_mailbox;
        if (!fits) return false;
        // A stranger's envelope pays this replica's own price; new data fits the node's cap.
        const std::uint64_t filled = filled_bytes_locked();  // read once for the price and the cap
        if (!s.deleted && c.payment && !paid(u, c.data->size(), *c.payment, filled)) return false;
        // A tombstone for a row this node never held is a new row nobody paid for: a member
        // could make them of made-up hashes in every namespace of free mailboxes. It is priced
        // like a store with no work: kept while the node is under its free fraction, else ignored.
        if (s.deleted) {
            Payment none{s.expiry_ms - now_ms, 0, false};
            if (!paid(u, 0, none, filled)) return false;
        }
        // A tombstone is a row too: it pays the row's share of the disk.
        if (!row_fits(s.deleted ? 0 : c.data->size() + (c.store_auth ? c.store_auth->size() : 0), !s.deleted, filled))
            return false;
        sql::Transaction tx(db_);
        if (c.proof && !keep_proof(s.mailbox, s.ns, *c.proof, c.owner_ms, named, proof_hash, c.batch)) return false;
        auto& ins = prepare("INSERT INTO messages (hash, mailbox, namespace, expiry_ms, data, store_auth, proof_hash, "
                            "owner_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        sql::ScopedReset ins_done(ins);
        // The generation a client's store gave it (store()), from the same signature or work (a
        // tombstone: its proof's time).
        ins.blob(1, s.hash).blob(2, s.mailbox).uint64(3, s.ns).uint64(4, s.expiry_ms);
        ins.uint64(8, row_generation(c.owner_ms, c.payment));
        if (!s.deleted) ins.blob(5, *c.data);
        if (!s.deleted && c.store_auth) ins.blob(6, *c.store_auth);
        if (c.proof) ins.blob(7, proof_hash);
        ins.step();
        if (filled_bytes_locked() > limits_.max_stored_bytes) {  // the proof kept with it fits too, in pages
            usage_.erase(usage_key(s.mailbox, s.ns));
            return false;  // rolled back
        }
        tx.commit();
        usage_.erase(usage_key(s.mailbox, s.ns));
        return true;
    }
    // Only the owner's word (a proof for this very row's mailbox) deletes or shortens a row.
    if (!c.proof || !same_mailbox) return false;
    sql::Transaction tx(db_);
    const std::uint64_t before = stored_bytes_locked();
    bool changed = false;
    if (s.deleted && live) {
        changed = tombstone(s.hash, nullptr, c.owner_ms);
        usage_.erase(usage_key(s.mailbox, s.ns));
    }
    // A delete proof says nothing about when: the tombstone keeps the row's expiry, or a member
    // replaying the proof with a short one could let it lapse and re-replicate the data as new.
    if (!s.deleted) changed = lower_expiry(s.hash, s.expiry_ms, nullptr, c.owner_ms) || changed;
    if (!changed) return false;  // rolled back
    // A proof too large, padded or unpaid for still applies here; it is just not passed on.
    keep_proof_for(s.mailbox, s.ns, {*c.proof, c.owner_ms}, s.deleted, named, {s.hash}, before, c.batch);
    tx.commit();
    return true;
}

std::optional<Bytes> MessageStore::proof_of(const Hash& hash) {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT p.body FROM messages m JOIN proofs p ON p.hash = m.proof_hash WHERE m.hash = ?1");
    sql::ScopedReset q_done(q);
    q.blob(1, hash);
    if (!q.step()) return std::nullopt;
    return q.column_bytes(0);
}

std::optional<Bytes> MessageStore::store_auth_of(const Hash& hash) {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT store_auth FROM messages WHERE hash = ?1 AND length(store_auth) > 0");
    sql::ScopedReset q_done(q);
    q.blob(1, hash);
    if (!q.step()) return std::nullopt;
    return q.column_bytes(0);
}

std::size_t MessageStore::proof_count() {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT count(*) FROM proofs");
    sql::ScopedReset q_done(q);
    return q.step() ? static_cast<std::size_t>(q.column_int64(0)) : 0;
}

std::uint64_t MessageStore::density_checks() {
    std::lock_guard lock(mutex_);
    return density_checks_;
}

std::vector<StoredMessage> MessageStore::fetch(const std::vector<Hash>& hashes, std::size_t max_bytes,
                                               std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::vector<StoredMessage> out;
    std::size_t bytes = 0;
    for (const auto& h : hashes) {
        auto& q = prepare("SELECT mailbox, namespace, expiry_ms, data, store_auth FROM messages "
                          "WHERE hash = ?1 AND data IS NOT NULL AND expiry_ms > ?2");
        sql::ScopedReset q_done(q);
        q.blob(1, h).uint64(2, now_ms);
        if (!q.step()) continue;
        auto size = q.column_size(3);
        if (!out.empty() && bytes + size > max_bytes) break;
        bytes += size;
        out.push_back(StoredMessage{q.column_array<32>(0), static_cast<std::uint16_t>(q.column_int64(1)), h,
                                    q.column_uint64(2), q.column_bytes(3), q.column_bytes(4)});
    }
    return out;
}

std::size_t MessageStore::row_count() {
    std::lock_guard lock(mutex_);
    auto& q = prepare("SELECT count(*) FROM messages");
    sql::ScopedReset q_done(q);
    return q.step() ? static_cast<std::size_t>(q.column_int64(0)) : 0;
}

}  // namespace veil::node
