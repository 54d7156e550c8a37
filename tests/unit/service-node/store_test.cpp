#include <catch2/catch.hpp>

#include <sqlcipher/sqlite3.h>
#include <sys/mount.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>

#include "veil/proto/owner_auth.hpp"
#include "store.hpp"

using namespace veil::node;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;
constexpr std::uint64_t kRow = kRowOverheadBytes;  // what every row costs besides its blobs
constexpr std::uint64_t kNewRow = kRow + kNewRowShareBytes;  // and its two proof shares, until proofs are kept for it

PublicKey mailbox(std::uint8_t b) {
    PublicKey k{};
    k.fill(b);
    return k;
}

StoredMessage msg(const PublicKey& mb, std::uint16_t ns, std::string_view text, std::uint64_t expiry = kNow + 60'000) {
    Bytes data(text.begin(), text.end());
    return StoredMessage{mb, ns, message_hash(mb, ns, data), expiry, data};
}

// Removes the test's scratch directory when the process ends.
struct ScratchDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("veil-node-store-" + std::to_string(::getpid()));
    ~ScratchDir() { std::filesystem::remove_all(path); }
};

std::string temp_db(const char* name) {
    static ScratchDir scratch;
    std::filesystem::create_directories(scratch.path);
    auto p = scratch.path / name;
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
    return p.string();
}

}  // namespace

TEST_CASE("store - a store is idempotent: the same message twice keeps one copy", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "hello");
    CHECK(s.store(m, kNow) == StoreOutcome::stored);
    CHECK(s.store(m, kNow) == StoreOutcome::duplicate);
    auto longer = m;
    longer.expiry_ms += 1000;
    CHECK(s.store(longer, kNow) == StoreOutcome::duplicate);
    CHECK(s.row_count() == 1);
    auto page = s.retrieve(mailbox(1), 0, {}, kNow);
    REQUIRE(page.messages.size() == 1);
    CHECK(page.messages[0].expiry_ms == m.expiry_ms);  // the first store's expiry stays
}

TEST_CASE("store - retrieve after a cursor with count and size limits", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    std::vector<StoredMessage> ms;
    for (int i = 0; i < 10; ++i) {
        ms.push_back(msg(mailbox(1), 0, std::string(100, static_cast<char>('a' + i))));
        REQUIRE(s.store(ms.back(), kNow) == StoreOutcome::stored);
    }
    REQUIRE(s.store(msg(mailbox(1), 5, "other namespace"), kNow) == StoreOutcome::stored);
    REQUIRE(s.store(msg(mailbox(2), 0, "other mailbox"), kNow) == StoreOutcome::stored);

    auto p1 = s.retrieve(mailbox(1), 0, PageQuery{std::nullopt, 4, 1 << 20}, kNow);
    REQUIRE(p1.messages.size() == 4);
    CHECK(p1.more);
    CHECK(p1.messages[0].hash == ms[0].hash);
    auto p2 = s.retrieve(mailbox(1), 0, PageQuery{p1.messages.back().hash, 100, 250}, kNow);
    REQUIRE(p2.messages.size() == 2);  // 250 bytes hold two 100-byte messages
    CHECK(p2.messages[0].hash == ms[4].hash);
    CHECK(p2.more);
    auto p3 = s.retrieve(mailbox(1), 0, PageQuery{p2.messages.back().hash, 100, 1}, kNow);
    CHECK(p3.messages.size() == 1);  // at least one, even over the size limit
    auto rest = s.retrieve(mailbox(1), 0, PageQuery{ms[8].hash, 100, 1 << 20}, kNow);
    REQUIRE(rest.messages.size() == 1);
    CHECK_FALSE(rest.more);
    // An unknown cursor starts from the beginning (the client dedups by hash).
    Hash unknown{};
    CHECK(s.retrieve(mailbox(1), 0, PageQuery{unknown, 100, 1 << 20}, kNow).messages.size() == 10);
    // Expired messages are not returned even before the sweeper runs.
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow + 60'000).messages.empty());
}

TEST_CASE("store - delete leaves a tombstone, expire only shortens, the sweeper removes", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto a = msg(mailbox(1), 0, "a");
    auto b = msg(mailbox(1), 0, "b");
    auto c = msg(mailbox(1), 0, "c", kNow + 10'000);
    for (const auto& m : {a, b, c}) REQUIRE(s.store(m, kNow) == StoreOutcome::stored);

    CHECK(s.remove(mailbox(1), 0, {a.hash, Hash{}}, kNow) == std::vector<Hash>{a.hash});
    CHECK(s.remove(mailbox(1), 0, {a.hash}, kNow).empty());
    CHECK(s.remove(mailbox(2), 0, {b.hash}, kNow).empty());  // someone else's mailbox: nothing
    CHECK(s.store(a, kNow) == StoreOutcome::duplicate);     // a deleted message is not stored again
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.size() == 2);

    CHECK(s.expire(mailbox(1), 0, {b.hash}, kNow + 5'000, kNow) == std::vector<Hash>{b.hash});
    CHECK(s.expire(mailbox(1), 0, {b.hash}, kNow + 50'000, kNow).empty());  // no extension
    CHECK(s.row_count() == 3);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow + 5'000).messages.size() == 1);  // c: b expired
    CHECK(s.sweep(kNow + 5'000) == 0);   // b is held (unserved) until the expiry it had
    CHECK(s.sweep(kNow + 10'000) == 1);  // c
    CHECK(s.sweep(kNow + 60'000) == 2);  // a's tombstone and b
    CHECK(s.row_count() == 0);
    // Once expired and swept, the same bytes may be stored afresh.
    auto again = a;
    again.expiry_ms = kNow + 120'000;
    CHECK(s.store(again, kNow + 60'000) == StoreOutcome::stored);
}

TEST_CASE("store - mailbox quota by count and bytes", "[node][store]") {
    Limits l;
    l.max_messages_per_mailbox = 3;
    l.max_bytes_per_mailbox = 250;
    MessageStore s({":memory:", "", false}, l);
    CHECK(s.store(msg(mailbox(1), 0, std::string(100, 'a')), kNow) == StoreOutcome::stored);
    CHECK(s.store(msg(mailbox(1), 0, std::string(100, 'b')), kNow) == StoreOutcome::stored);
    CHECK(s.store(msg(mailbox(1), 0, std::string(100, 'c')), kNow) == StoreOutcome::quota_exceeded);
    CHECK(s.store(msg(mailbox(1), 0, std::string(10, 'd')), kNow) == StoreOutcome::stored);
    CHECK(s.store(msg(mailbox(1), 0, "e"), kNow) == StoreOutcome::quota_exceeded);  // 3 messages
    CHECK(s.store(msg(mailbox(2), 0, "e"), kNow) == StoreOutcome::stored);          // per mailbox
    auto first = msg(mailbox(1), 0, std::string(100, 'a'));
    REQUIRE(s.remove(mailbox(1), 0, {first.hash}, kNow).size() == 1);
    CHECK(s.store(msg(mailbox(1), 0, "e"), kNow) == StoreOutcome::stored);  // room again
    CHECK(s.store(msg(mailbox(1), 0, "f"), kNow) == StoreOutcome::quota_exceeded);
    CHECK(s.store(msg(mailbox(1), 0x8001, "f"), kNow) == StoreOutcome::stored);  // per namespace
}

TEST_CASE("store - an extending re-store raises the expiry; the answer names the expiry held", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0x8001, "list");
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    auto later = m;
    later.expiry_ms += 5000;
    std::uint64_t held = 0;
    CHECK(s.store(later, kNow + 1000, 0, &held) == StoreOutcome::duplicate);
    CHECK(held == m.expiry_ms);
    CHECK(s.store(later, kNow + 1000, kNow + 1000, &held) == StoreOutcome::duplicate);
    CHECK(held == later.expiry_ms);
    CHECK(s.retrieve(mailbox(1), 0x8001, {}, m.expiry_ms + 1).messages.size() == 1);
    // Never shortened by a re-store, and a deleted message stays deleted.
    CHECK(s.store(m, kNow + 2000, kNow + 2000, &held) == StoreOutcome::duplicate);
    CHECK(held == later.expiry_ms);
    // The owner's delete signed before its last re-store is older than the row: refused.
    CHECK(s.remove(mailbox(1), 0x8001, {m.hash}, kNow + 2000, {Bytes{1}, kNow + 1999}).empty());
    REQUIRE(s.remove(mailbox(1), 0x8001, {m.hash}, kNow + 2000, {Bytes{1}, kNow + 2000}).size() == 1);
    auto much_later = m;
    much_later.expiry_ms += 60'000;
    CHECK(s.store(much_later, kNow + 3000, kNow + 3000) == StoreOutcome::duplicate);
    CHECK(s.retrieve(mailbox(1), 0x8001, {}, kNow + 3000).messages.empty());
}

TEST_CASE("store - data survives reopening; the file holds only the documented columns", "[node][store]") {
    auto path = temp_db("reopen.db");
    auto m = msg(mailbox(7), 3, "persist me");
    {
        MessageStore s({path, "", false}, Limits{});
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    }
    MessageStore s({path, "", false}, Limits{});
    auto page = s.retrieve(mailbox(7), 3, {}, kNow);
    REQUIRE(page.messages.size() == 1);
    CHECK(page.messages[0].data == m.data);

    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA table_info(messages)", -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::string> cols;
    while (sqlite3_step(st) == SQLITE_ROW) cols.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1, &st, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == 3);  // messages, proofs, and totals (one row: the bytes held)
    sqlite3_finalize(st);
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(cols == std::vector<std::string>{"id", "hash", "mailbox", "namespace", "expiry_ms", "data", "store_auth",
                                           "proof_hash", "owner_ms", "held_ms"});
}

TEST_CASE("store - an encrypted database refuses a wrong key and keeps its data", "[node][store]") {
    auto path = temp_db("keyed.db");
    const std::string key(64, 'a');
    auto m = msg(mailbox(3), 0, "secret ciphertext");
    {
        MessageStore s({path, key, false}, Limits{});
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    }
    CHECK_THROWS_AS(MessageStore({path, std::string(64, 'b'), false}, Limits{}), StoreError);
    CHECK_THROWS_AS(MessageStore({path, "", false}, Limits{}), StoreError);
    MessageStore s({path, key, false}, Limits{});
    CHECK(s.retrieve(mailbox(3), 0, {}, kNow).messages.size() == 1);
}

TEST_CASE("store - each owner proof is kept once; tombstones and proof bytes have their own quota; past it the oldest proof goes",
          "[node][store]") {
    Limits limits;
    limits.max_tombstones_per_mailbox = 3;
    limits.max_proof_bytes_per_mailbox = 300;
    MessageStore s({":memory:", "", false}, limits);
    const Bytes proof(200, 7);  // the store trusts its caller to have verified it (one hash's size)
    auto tombstone = [&](std::uint8_t i, const Bytes& p) {
        Hash h{};
        h[0] = i;
        return s.merge({MessageState{h, mailbox(1), 0, kNow + 60'000, true}, nullptr, nullptr, &p, kNow}, kNow);
    };
    CHECK(tombstone(1, proof));
    CHECK(tombstone(2, proof));
    CHECK(tombstone(3, proof));
    CHECK(s.proof_count() == 1);  // three rows, one proof
    CHECK_FALSE(tombstone(4, proof));  // a fourth tombstone: over the tombstone quota
    // A live row: a second proof of 200 bytes would hold 400 bytes of proofs, so the oldest
    // is forgotten; its tombstones stay deleted, without a proof to pass on.
    auto m = msg(mailbox(1), 0, "live");
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    const Bytes other(200, 8);
    CHECK(s.remove(mailbox(1), 0, {m.hash}, kNow, {other, kNow}).size() == 1);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.empty());
    CHECK(s.proof_count() == 1);
    CHECK(s.proof_of(m.hash) == other);
    Hash first{};
    first[0] = 1;
    CHECK_FALSE(s.proof_of(first));
    std::size_t tombstones = 0;
    for (const auto& st : s.states(kNow, {})) tombstones += st.deleted ? 1 : 0;
    CHECK(tombstones == 4);
    // A proof larger than the whole quota is not kept; the owner's delete still happens.
    auto big = msg(mailbox(1), 0, "big proof");
    REQUIRE(s.store(big, kNow) == StoreOutcome::stored);
    CHECK(s.remove(mailbox(1), 0, {big.hash}, kNow, {Bytes(301, 9), kNow}).size() == 1);
    CHECK_FALSE(s.proof_of(big.hash));
    // Another mailbox has its own quota; a proof that changed nothing is not kept.
    CHECK(s.remove(mailbox(2), 0, {}, kNow, {proof, kNow}).empty());
    CHECK(s.proof_count() == 1);
    auto theirs = msg(mailbox(2), 0, "theirs");
    REQUIRE(s.store(theirs, kNow) == StoreOutcome::stored);
    CHECK(s.remove(mailbox(2), 0, {theirs.hash}, kNow, {proof, kNow}).size() == 1);
    CHECK(s.proof_count() == 2);
    // Swept rows take their proofs with them.
    s.sweep(kNow + 60'001);
    CHECK(s.proof_count() == 0);
}

TEST_CASE("store - the node's stored bytes count every row, data, store auths and proofs, exactly, across reopening",
          "[node][store]") {
    auto path = temp_db("totals.db");
    auto a = msg(mailbox(1), 0, "aaaa");
    a.store_auth = Bytes(10, 1);
    auto b = msg(mailbox(2), 0, "bbbbbb");
    {
        MessageStore s({path, "", false}, Limits{});
        REQUIRE(s.store(a, kNow) == StoreOutcome::stored);
        REQUIRE(s.store(b, kNow) == StoreOutcome::stored);
        CHECK(s.stored_bytes() == 2 * kNewRow + 4 + 10 + 6);
        CHECK(s.store(b, kNow) == StoreOutcome::duplicate);
        CHECK(s.stored_bytes() == 2 * kNewRow + 20);
        REQUIRE(s.remove(mailbox(2), 0, {b.hash}, kNow, {Bytes(7, 3), kNow}).size() == 1);  // data gone, proof kept
        CHECK(s.stored_bytes() == kNewRow + kRow + 4 + 10 + 7);  // the tombstone is still a row; its share paid the proof
    }
    MessageStore s({path, "", false}, Limits{});
    CHECK(s.stored_bytes() == kNewRow + kRow + 21);
    s.sweep(kNow + 60'001);
    CHECK(s.stored_bytes() == 0);
}

TEST_CASE("store - a database whose rows kept proofs per row keeps each proof once after opening", "[node][store]") {
    auto path = temp_db("old-proofs.db");
    auto a = msg(mailbox(1), 0, "a");
    auto b = msg(mailbox(1), 0, "b");
    const Bytes proof{1, 2, 3};
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db,
                             "CREATE TABLE messages (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, mailbox BLOB NOT "
                             "NULL, namespace INTEGER NOT NULL, expiry_ms INTEGER NOT NULL, data BLOB, proof BLOB)",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        for (const auto* m : {&a, &b}) {
            sqlite3_stmt* st = nullptr;
            REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO messages (hash, mailbox, namespace, expiry_ms, proof) "
                                           "VALUES (?1, ?2, 0, ?3, ?4)", -1, &st, nullptr) == SQLITE_OK);
            sqlite3_bind_blob(st, 1, m->hash.data(), 32, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 2, m->mailbox.data(), 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(m->expiry_ms));
            sqlite3_bind_blob(st, 4, proof.data(), 3, SQLITE_TRANSIENT);
            REQUIRE(sqlite3_step(st) == SQLITE_DONE);
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
    }
    MessageStore s({path, "", false}, Limits{});
    CHECK(s.proof_of(a.hash) == proof);
    CHECK(s.proof_of(b.hash) == proof);
    CHECK(s.proof_count() == 1);
    CHECK(s.row_count() == 2);
    CHECK(s.stored_bytes() == 2 * kRow + proof.size());  // the node's total starts from what the old file holds
}

TEST_CASE("store - a bucket page reads its range of hashes, with the proofs, after the cursor", "[node][store]") {
    Limits limits;
    MessageStore s({":memory:", "", false}, limits);
    // Messages of two mailboxes until buckets 0x00, 0x07 and 0xff hold a few each.
    std::map<std::uint8_t, std::vector<Hash>> by_bucket;
    std::map<Hash, PublicKey> owner_of;
    for (int i = 0; by_bucket[0x00].size() < 3 || by_bucket[0x07].size() < 5 || by_bucket[0xff].size() < 3; ++i) {
        auto m = msg(mailbox(static_cast<std::uint8_t>(1 + i % 2)), 0, "m" + std::to_string(i));
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        by_bucket[m.hash[0]].push_back(m.hash);
        owner_of[m.hash] = m.mailbox;
    }
    for (auto& [b, hashes] : by_bucket) std::sort(hashes.begin(), hashes.end());
    const auto& seven = by_bucket[0x07];
    // One of bucket 7 deleted with a proof: the page carries it.
    Bytes proof{9, 9, 9};
    REQUIRE(s.remove(owner_of[seven[1]], 0, {seven[1]}, kNow, {proof, kNow}).size() == 1);
    auto all = [](const PublicKey&) { return true; };
    auto page = s.bucket_page(0x07, std::nullopt, kNow, all, 2, kMaxPageBytes);
    REQUIRE(page.states.size() == 2);
    CHECK(page.more);
    CHECK(page.states[0].state.hash == seven[0]);
    CHECK(page.states[1].state.hash == seven[1]);
    CHECK(page.states[1].state.deleted);
    REQUIRE(page.states[1].proof);
    CHECK(*page.states[1].proof == proof);
    CHECK_FALSE(page.states[0].proof);
    // The cursor: the states above it, up to the end of the bucket.
    auto rest = s.bucket_page(0x07, seven[1], kNow, all, 100, kMaxPageBytes);
    CHECK_FALSE(rest.more);
    REQUIRE(rest.states.size() == seven.size() - 2);
    CHECK(rest.states.front().state.hash == seven[2]);
    // The first and last buckets hold exactly their own.
    for (std::uint8_t b : {std::uint8_t{0x00}, std::uint8_t{0xff}}) {
        auto p = s.bucket_page(b, std::nullopt, kNow, all, 100, kMaxPageBytes);
        REQUIRE(p.states.size() == by_bucket[b].size());
        for (const auto& op : p.states) CHECK(op.state.hash[0] == b);
    }
    // Rows of mailboxes the caller does not keep are left out.
    auto only_one = s.bucket_page(0x07, std::nullopt, kNow, [](const PublicKey& m) { return m == mailbox(1); }, 100,
                                  kMaxPageBytes);
    for (const auto& op : only_one.states) CHECK(op.state.mailbox == mailbox(1));
}

TEST_CASE("store - a proof naming hashes the node does not hold is applied but not kept", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "held");
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    std::vector<Hash> named{m.hash};
    for (std::uint8_t i = 1; i < 100; ++i) named.push_back(Hash{i});
    const Bytes padded(150 + 32 * named.size(), 7);
    CHECK(s.remove(mailbox(1), 0, named, kNow, {padded, kNow}).size() == 1);
    CHECK(s.proof_count() == 0);
    CHECK(s.stored_bytes() == kRow);  // the tombstone's row alone (a tombstone owes no proof share)
    // A replica's merge of a row it holds: applied, the padded proof not kept either.
    auto r = msg(mailbox(1), 0, "replica");
    REQUIRE(s.store(r, kNow) == StoreOutcome::stored);
    named[0] = r.hash;
    ReplicaChange c{MessageState{r.hash, mailbox(1), 0, kNow + 60'000, true}, nullptr, nullptr, &padded, kNow};
    c.proof_hashes = &named;
    CHECK(s.merge(c, kNow));
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.empty());
    CHECK(s.proof_count() == 0);
}

TEST_CASE("store - a proof naming one held hash many times counts one row: not kept", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    for (std::uint8_t k = 1; k <= 20; ++k) {  // fresh keypairs, one byte each
        auto m = msg(mailbox(k), 0, "x");
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        const std::vector<Hash> named(999, m.hash);
        const Bytes repeated(150 + 32 * named.size(), k);
        CHECK(s.remove(mailbox(k), 0, named, kNow, {repeated, kNow}).size() == 1);  // applied
    }
    CHECK(s.proof_count() == 0);
    CHECK(s.stored_bytes() == 20 * kRow);  // the tombstones' rows alone
}

TEST_CASE("store - a kept proof counts against the node's byte cap", "[node][store]") {
    Limits limits;
    // 20 rows expired together (9,180 bytes once their first shares paid for the expire proof),
    // six 1-byte rows more, and 100 bytes of room.
    limits.max_stored_bytes = 20 * (kRow + 1 + kProofShareBytes) + 200 + 6 * (kNewRow + 1) + 100;
    limits.node_work_free_fraction = 1;  // pricing off: only the cap keeps proofs out
    MessageStore s({":memory:", "", false}, limits);
    std::vector<Hash> rows;
    for (char k = 1; k <= 20; ++k) {
        auto m = msg(mailbox(1), 0, std::string(1, k));
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        rows.push_back(m.hash);
    }
    REQUIRE(s.expire(mailbox(1), 0, rows, kNow + 30'000, kNow, {Bytes(200, 0), kNow}).size() == 20);
    for (char k = '0'; s.store(msg(mailbox(2), 0, std::string(1, k)), kNow) == StoreOutcome::stored; ++k) {
    }
    std::size_t kept = 0;
    for (std::uint8_t k = 0; k < 20; ++k) {
        // Dense (one held row pays for 320 bytes), and 44 bytes more than the share the row
        // still owes: each grows the node, and is kept only while it fits.
        const Bytes proof(kProofShareBytes + 44, k);
        CHECK(s.remove(mailbox(1), 0, {rows[k]}, kNow, {proof, kNow + 1 + k}).size() == 1);
        CHECK(s.stored_bytes() <= limits.max_stored_bytes);
        kept += s.proof_of(rows[k]) == proof ? 1 : 0;
    }
    CHECK(kept >= 1);  // what fits; the others applied without a proof kept
    CHECK(kept < 20);
}

TEST_CASE("store - a proof's density is decided once for the ops of one request that cite it", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "held");
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    std::vector<Hash> named{m.hash};
    for (std::uint8_t i = 1; i < 100; ++i) named.push_back(Hash{i});
    const Bytes padded(150 + 32 * named.size(), 7);
    ProofInBatch batch;
    for (int i = 0; i < 1'000; ++i) {
        ReplicaChange c{MessageState{m.hash, mailbox(1), 0, kNow + 60'000, true}, nullptr, nullptr, &padded, kNow};
        c.proof_hashes = &named;
        c.batch = &batch;
        s.merge(c, kNow);
    }
    CHECK(s.density_checks() == 1);
    CHECK(s.proof_count() == 0);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.empty());
}

TEST_CASE("store - an expire whose proof is not kept leaves the row's earlier proof", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "held", kNow + 60'000);
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    const Bytes earlier(200, 1);
    REQUIRE(s.expire(mailbox(1), 0, {m.hash}, kNow + 50'000, kNow, {earlier, kNow}).size() == 1);
    REQUIRE(s.proof_of(m.hash) == earlier);
    std::vector<Hash> named{m.hash};
    for (std::uint8_t i = 1; i < 100; ++i) named.push_back(Hash{i});
    const Bytes padded(150 + 32 * named.size(), 7);
    // A replica's padded expire: applied, not kept, the earlier reference stays.
    ReplicaChange c{MessageState{m.hash, mailbox(1), 0, kNow + 40'000, false}, nullptr, nullptr, &padded, kNow + 1};
    c.proof_hashes = &named;
    CHECK(s.merge(c, kNow));
    CHECK(s.proof_of(m.hash) == earlier);
    // A client's padded expire too.
    CHECK(s.expire(mailbox(1), 0, named, kNow + 30'000, kNow, {padded, kNow + 2}).size() == 1);
    CHECK(s.proof_of(m.hash) == earlier);
}

TEST_CASE("store - past the proof quota the oldest signed proof goes: replayed old proofs keep out, not the newest",
          "[node][store]") {
    Limits limits;
    limits.max_proof_bytes_per_mailbox = 450;  // two proofs of 200 bytes
    MessageStore s({":memory:", "", false}, limits);
    std::vector<Hash> rows;
    for (const char* text : {"a", "b", "c", "d", "e"}) {
        auto m = msg(mailbox(1), 0, text);
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        rows.push_back(m.hash);
    }
    auto remove = [&](std::size_t row, std::uint8_t fill, std::uint64_t signed_ms) {
        return s.remove(mailbox(1), 0, {rows[row]}, kNow, {Bytes(200, fill), signed_ms}).size();
    };
    CHECK(remove(0, 1, kNow - 100) == 1);
    CHECK(remove(1, 2, kNow - 50) == 1);  // the owner's newest
    // A member replays two older proofs of the owner (valid signatures, signed before both).
    CHECK(remove(2, 3, kNow - 300) == 1);  // applied (the row had no newer owner action) ...
    CHECK(remove(3, 4, kNow - 200) == 1);
    CHECK_FALSE(s.proof_of(rows[2]));  // ... but not kept
    CHECK_FALSE(s.proof_of(rows[3]));
    CHECK(s.proof_of(rows[1]) == Bytes(200, 2));  // the newest stays
    CHECK(s.proof_of(rows[0]) == Bytes(200, 1));
    // A newer one pushes out the oldest signed.
    CHECK(remove(4, 5, kNow - 10) == 1);
    CHECK_FALSE(s.proof_of(rows[0]));
    CHECK(s.proof_of(rows[1]) == Bytes(200, 2));
    CHECK(s.proof_of(rows[4]) == Bytes(200, 5));
}

namespace {

PublicKey numbered_mailbox(std::uint32_t i) {
    PublicKey k{};
    for (int b = 0; b < 4; ++b) k[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
    return k;
}

}  // namespace

TEST_CASE("store - a database from before the row charge is charged for its rows after opening", "[node][store]") {
    auto path = temp_db("before-row-charge.db");
    auto a = msg(mailbox(1), 0, "aaaa");
    auto b = msg(mailbox(2), 0, "bbbbbb");
    {
        MessageStore s({path, "", false}, Limits{});
        REQUIRE(s.store(a, kNow) == StoreOutcome::stored);
        REQUIRE(s.store(b, kNow) == StoreOutcome::stored);
    }
    {
        // As the previous version left it: blobs only, in the total and in the row triggers.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, R"sql(
PRAGMA user_version = 0;
DROP TRIGGER totals_row_added;
CREATE TRIGGER totals_row_added AFTER INSERT ON messages BEGIN
  UPDATE totals SET bytes = bytes + coalesce(length(NEW.data), 0) + coalesce(length(NEW.store_auth), 0);
END;
UPDATE totals SET bytes = 10;
)sql", nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    MessageStore s({path, "", false}, Limits{});
    CHECK(s.stored_bytes() == 2 * kNewRow + 10);
    REQUIRE(s.store(msg(mailbox(3), 0, "ccc"), kNow) == StoreOutcome::stored);
    CHECK(s.stored_bytes() == 3 * kNewRow + 13);  // the new triggers charge the row
}

TEST_CASE("store - the summary read in chunks is the summary of every state", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    const auto rows = static_cast<std::uint32_t>(MessageStore::kSummaryChunk * 2 + 7);
    for (std::uint32_t i = 0; i < rows; ++i)
        REQUIRE(s.store(msg(numbered_mailbox(i % 50), 0, std::to_string(i)), kNow) == StoreOutcome::stored);
    auto removed = msg(numbered_mailbox(3), 0, "3");
    REQUIRE(s.remove(numbered_mailbox(3), 0, {removed.hash}, kNow).size() == 1);
    auto keep = [](const PublicKey& m) { return m[0] % 2 == 0; };
    CHECK(s.summary(kNow, keep) == summarize(s.states(kNow, keep)));
    CHECK(s.summary(kNow, {}) == summarize(s.states(kNow, {})));
    // A page's local side: only the hashes it names, tombstones too, and none it lacks.
    auto local = s.states_of({removed.hash, Hash{}, msg(numbered_mailbox(4), 0, "4").hash}, kNow);
    REQUIRE(local.size() == 2);
    CHECK(local[0].deleted);
    CHECK(local[1].mailbox == numbered_mailbox(4));
}

TEST_CASE("store - past the node's free fraction an owner's refresh is priced like a store", "[node][store]") {
    Limits limits;
    limits.max_stored_bytes = 100 * (kNewRow + 100);
    MessageStore s({":memory:", "", false}, limits);
    auto list = msg(mailbox(1), 1, std::string(100, 'l'), kNow + 60'000);
    REQUIRE(s.store(list, kNow, kNow) == StoreOutcome::stored);
    // Below half: a refresh is free.
    auto later = list;
    later.expiry_ms += 1'000;
    Payment free{60'000, 0, false};
    std::uint64_t held = 0;
    CHECK(s.store(later, kNow, kNow + 1, &held, &free) == StoreOutcome::duplicate);
    CHECK(held == later.expiry_ms);
    // Past half full, a refresh without work is refused and the expiry stays.
    for (std::uint32_t i = 0; i < 60; ++i)
        REQUIRE(s.store(msg(numbered_mailbox(1000 + i), 0, std::string(100, 'x')), kNow) == StoreOutcome::stored);
    auto again = later;
    again.expiry_ms += 1'000;
    Payment unpaid{60'000, 0, false};
    CHECK(s.store(again, kNow, kNow + 2, &held, &unpaid) == StoreOutcome::unpaid);
    CHECK(unpaid.asked_work > 0);
    CHECK(s.retrieve(mailbox(1), 1, {}, kNow).messages.at(0).expiry_ms == later.expiry_ms);
    // With the work asked: extended.
    Payment paid{60'000, unpaid.asked_work, false};
    CHECK(s.store(again, kNow, kNow + 3, &held, &paid) == StoreOutcome::duplicate);
    CHECK(held == again.expiry_ms);
    // A re-store that extends nothing is free at any fill.
    Payment none{60'000, 0, false};
    CHECK(s.store(again, kNow, kNow + 4, &held, &none) == StoreOutcome::duplicate);
}

TEST_CASE("store - the file stays within 1.25x of the bytes charged, whatever the row size", "[node][store]") {
    // A row over half a page's room takes a page alone (1 KiB pages encrypted, 4 KiB plain): a
    // flat charge per row let 500-byte rows reach 1.5x of the cap encrypted and 2 KiB ones 1.8x.
    for (const std::string& key : {std::string(64, 'a'), std::string()}) {
        for (std::size_t size : {1, 500, 2048, 3072, 8192}) {
            auto path = temp_db("by-size.db");
            Limits limits;
            limits.max_stored_bytes = 1 << 20;
            std::uint64_t charged = 0;
            std::uint32_t stored = 0;
            {
                MessageStore s({path, key, false}, limits);
                for (std::uint32_t i = 0; i < 20'000; ++i) {  // a row costs more than 52 bytes
                    auto outcome = s.store(msg(numbered_mailbox(i), 0, std::string(size, 'x')), kNow);
                    if (outcome == StoreOutcome::node_full) break;
                    REQUIRE(outcome == StoreOutcome::stored);
                    ++stored;
                }
                charged = s.stored_bytes();
                CHECK(charged <= limits.max_stored_bytes);
            }  // closed: the write-ahead log is checkpointed into the file
            const auto on_disk = std::filesystem::file_size(path);
            const double ratio = static_cast<double>(on_disk) / static_cast<double>(charged);
            INFO((key.empty() ? "plain, " : "encrypted, ") << size << "-byte rows: " << stored << " stored, " << on_disk
                                                          << " bytes on disk, " << charged << " charged: " << ratio << "x");
            CHECK(ratio <= 1.25);
        }
    }
}

TEST_CASE("store - past the free fraction an owner's deletes and expiries cannot grow the node", "[node][store]") {
    // Review MEDIUM (issue 13): deletes are never priced, so an owner filled the node from half
    // to its cap for free by deleting its own free 1-byte rows with dense proofs (each kept:
    // up to 256 + 64 bytes a row), and by deleting them again with fresh proofs.
    Limits limits;
    limits.max_stored_bytes = 200 * (kNewRow + 1);
    MessageStore s({":memory:", "", false}, limits);
    std::vector<Hash> rows;
    for (std::uint32_t i = 0; i < 120; ++i) {  // free up to half, then 20 rows more with work
        auto m = msg(mailbox(1), 0, std::to_string(i));
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        rows.push_back(m.hash);
    }
    const auto full = s.stored_bytes();
    REQUIRE(full > limits.max_stored_bytes / 2);
    for (std::uint32_t i = 0; i < rows.size(); ++i) {
        const Bytes dense(256 + 64 - 1, static_cast<std::uint8_t>(i));
        CHECK(s.remove(mailbox(1), 0, {rows[i]}, kNow, {dense, kNow + i}).size() == 1);  // applied
        CHECK(s.remove(mailbox(1), 0, {rows[i]}, kNow, {Bytes(300, 1), kNow + 1000 + i}).empty());  // again
        CHECK(s.expire(mailbox(1), 0, {rows[i]}, kNow + 30'000, kNow, {Bytes(300, 2), kNow + 2000 + i}).empty());
    }
    CHECK(s.stored_bytes() <= full);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.empty());
    // Under the free fraction a delete keeps its proof, as before.
    MessageStore roomy({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "x");
    REQUIRE(roomy.store(m, kNow) == StoreOutcome::stored);
    REQUIRE(roomy.remove(mailbox(1), 0, {m.hash}, kNow, {Bytes(300, 3), kNow}).size() == 1);
    CHECK(roomy.proof_of(m.hash) == Bytes(300, 3));
}

TEST_CASE("store - an owner's re-store of a stranger's row pays and fits for the store auth it adds",
          "[node][store]") {
    // Review MEDIUM (issue 13): the owner's re-store replaced a stranger's row's empty store
    // auth with its own without node_fits, growing the node past its cap.
    Limits limits;
    limits.max_stored_bytes = 50 * (kNewRow + 1);
    limits.node_work_free_fraction = 1;  // pricing off: the cap alone
    MessageStore s({":memory:", "", false}, limits);
    std::vector<StoredMessage> rows;
    for (std::uint8_t i = 0; i < 50; ++i) {
        auto m = msg(mailbox(1), 0, std::string(1, static_cast<char>(i)));
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
        rows.push_back(m);
    }
    REQUIRE(s.stored_bytes() == limits.max_stored_bytes);
    for (auto m : rows) {
        m.store_auth = Bytes(100, 5);
        CHECK(s.store(m, kNow, kNow + 1) == StoreOutcome::node_full);
    }
    CHECK(s.stored_bytes() == limits.max_stored_bytes);
    CHECK_FALSE(s.store_auth_of(rows[0].hash));
    // Past the free fraction the growth is priced like a store.
    Limits priced;
    priced.max_stored_bytes = 100 * (kNewRow + 1);
    MessageStore p({":memory:", "", false}, priced);
    for (const auto& m : rows) REQUIRE(p.store(m, kNow) == StoreOutcome::stored);
    auto signed_again = rows[0];
    signed_again.store_auth = Bytes(100, 5);
    Payment none{60'000, 0, false};
    CHECK(p.store(signed_again, kNow, kNow + 1, nullptr, &none) == StoreOutcome::unpaid);
    Payment enough{60'000, none.asked_work, false};
    CHECK(p.store(signed_again, kNow, kNow + 1, nullptr, &enough) == StoreOutcome::duplicate);
    CHECK(p.store_auth_of(rows[0].hash) == signed_again.store_auth);
}

TEST_CASE("store - a replica's tombstones for rows it never held stop at the free fraction", "[node][store]") {
    // Review HIGH (issue 13): a member's signed deletes of made-up hashes in thousands of
    // namespaces became tombstones that cost the replica a row each, up to its cap, for free.
    Limits limits;
    limits.max_stored_bytes = 1'000 * (kRow + 200);
    MessageStore s({":memory:", "", false}, limits);
    const Bytes proof(200, 7);
    std::uint32_t kept = 0;
    for (std::uint16_t ns = 0; ns < 1'000; ++ns) {
        Hash made_up{};
        made_up[0] = static_cast<std::uint8_t>(ns);
        made_up[1] = static_cast<std::uint8_t>(ns >> 8);
        const Bytes p(200, static_cast<std::uint8_t>(ns));
        kept += s.merge({MessageState{made_up, mailbox(1), ns, kNow + 60'000, true}, nullptr, nullptr, &p, kNow}, kNow)
                    ? 1 : 0;
    }
    CHECK(kept > 0);  // free under half, as any client's store
    CHECK(s.stored_bytes() <= limits.max_stored_bytes / 2 + kRow + 200);
    // A tombstone for a row it holds still applies at any fill.
    auto m = msg(mailbox(2), 0, "held");
    limits.node_work_free_fraction = 1;
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    CHECK(s.merge({MessageState{m.hash, mailbox(2), 0, kNow + 60'000, true}, nullptr, nullptr, &proof, kNow}, kNow));
    CHECK(s.retrieve(mailbox(2), 0, {}, kNow).messages.empty());
}

namespace {

// A store past its free fraction: 30 one-byte rows of mailbox(1) in room for 40.
struct PastHalf {
    Limits limits;
    std::unique_ptr<MessageStore> s;
    std::vector<Hash> rows;
    PastHalf() {
        limits.max_stored_bytes = 40 * (kNewRow + 2);
        s = std::make_unique<MessageStore>(StoreOptions{":memory:", "", false}, limits);
        for (std::uint8_t i = 0; i < 30; ++i) {
            auto m = msg(mailbox(1), 0, std::string{'r', static_cast<char>(i)});
            REQUIRE(s->store(m, kNow) == StoreOutcome::stored);
            rows.push_back(m.hash);
        }
        REQUIRE(s->stored_bytes() > limits.max_stored_bytes / 2);
    }
};

}  // namespace

TEST_CASE("store - past the free fraction a replica keeps a proof the ops of one request pay for together",
          "[node][store]") {
    // Review HIGH (issue 13, convergence): a replica merges a multi-row expire one op at a time;
    // each row's share alone is less than the proof, so without the request's rows together it
    // was never kept, and a member that missed the expire never learned it from this one.
    PastHalf past;
    const std::vector<Hash> named(past.rows.begin(), past.rows.begin() + 6);
    const Bytes proof(150 + 32 * named.size() + 8, 4);  // an expire of six hashes: dense
    REQUIRE(proof.size() > kProofShareBytes);
    const auto before = past.s->stored_bytes();
    ProofInBatch batch;
    for (const auto& h : named) {
        ReplicaChange c{MessageState{h, mailbox(1), 0, kNow + 20'000, false}, nullptr, nullptr, &proof, kNow};
        c.proof_hashes = &named;
        c.batch = &batch;
        CHECK(past.s->merge(c, kNow));
    }
    for (const auto& h : named) CHECK(past.s->proof_of(h) == proof);
    CHECK(past.s->stored_bytes() < before);  // the shares paid for it
}

TEST_CASE("store - past the free fraction an owner's later expire replaces the earlier proof, which goes at once",
          "[node][store]") {
    PastHalf past;
    const Hash h = past.rows[0];
    const Bytes first(186, 1);  // a real one-row expire: its share pays for it
    const Bytes second(186, 2);
    REQUIRE(past.s->expire(mailbox(1), 0, {h}, kNow + 30'000, kNow, {first, kNow}).size() == 1);
    CHECK(past.s->proof_of(h) == first);  // the row's share paid for it
    const auto before = past.s->stored_bytes();
    REQUIRE(past.s->expire(mailbox(1), 0, {h}, kNow + 20'000, kNow, {second, kNow + 1}).size() == 1);
    CHECK(past.s->proof_of(h) == second);  // the first, no longer needed, paid for it
    CHECK(past.s->proof_count() == 1);
    CHECK(past.s->stored_bytes() == before);
}

TEST_CASE("store - an expire never changes a tombstone: its delete proof and its expiry stay", "[node][store]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "gone");
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    const Bytes del(200, 1);
    const Bytes exp(200, 2);
    REQUIRE(s.remove(mailbox(1), 0, {m.hash}, kNow, {del, kNow}).size() == 1);
    // A replica's lower expiry of the tombstone changes nothing: peers still need its delete
    // proof, and every member keeps the tombstone until the same expiry.
    CHECK_FALSE(s.merge({MessageState{m.hash, mailbox(1), 0, kNow + 20'000, false}, nullptr, nullptr, &exp, kNow + 1}, kNow));
    CHECK(s.proof_of(m.hash) == del);
    CHECK(s.states_of({m.hash}, kNow).at(0).expiry_ms == m.expiry_ms);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.empty());
}

TEST_CASE("store - past the free fraction a delete after an expire keeps its delete proof, and the expiry the row had",
          "[node][store]") {
    // Review MEDIUM (issue 13): the expire released the row's one share, so the delete's proof
    // was not kept past half full and the tombstone went on citing the expire proof, which no
    // member accepts for a deletion: a member that missed both never learned of the delete.
    PastHalf past;
    const std::vector<Hash> rows(past.rows.begin(), past.rows.begin() + 6);
    const Bytes exp(154 + 32 * rows.size(), 1);  // a real expire of six hashes
    const Bytes del(146 + 32, 2);                // a real delete of one
    REQUIRE(past.s->expire(mailbox(1), 0, rows, kNow + 20'000, kNow, {exp, kNow}).size() == rows.size());
    REQUIRE(past.s->proof_of(rows[0]) == exp);
    REQUIRE(past.s->remove(mailbox(1), 0, {rows[0]}, kNow, {del, kNow + 1}).size() == 1);
    CHECK(past.s->proof_of(rows[0]) == del);
    CHECK(past.s->proof_of(rows[1]) == exp);
    const auto state = past.s->states_of({rows[0]}, kNow).at(0);
    CHECK(state.deleted);
    CHECK(state.expiry_ms == kNow + 60'000);  // msg()'s: as on a member that missed the expire
}

TEST_CASE("store - a retry of a row its owner expired early leaves it held", "[node][store]") {
    // Review LOW (issue 13): the store deleted the held row and stored it afresh, served again
    // here while the other members held it.
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "held", kNow + 60'000);
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    const Bytes exp(186, 1);
    REQUIRE(s.expire(mailbox(1), 0, {m.hash}, kNow + 10'000, kNow, {exp, kNow}).size() == 1);
    std::uint64_t held = 0;
    CHECK(s.store(m, kNow + 20'000, 0, &held) == StoreOutcome::duplicate);
    CHECK(held == kNow + 10'000);
    // The owner's store signed before the expire too; one signed after it is told the row is
    // held (review LOW, nodefix3: it got a silent ok with an expiry in the past).
    CHECK(s.store(m, kNow + 20'000, kNow - 1'000, &held) == StoreOutcome::duplicate);
    CHECK(s.store(m, kNow + 20'000, kNow + 20'000, &held) == StoreOutcome::held);
    CHECK(held == kNow + 10'000);
    CHECK(s.retrieve(mailbox(1), 0, {}, kNow + 20'000).messages.empty());
    CHECK(s.proof_of(m.hash) == exp);
    // Once its hold is over it may be stored afresh.
    s.sweep(kNow + 60'000);
    auto again = m;
    again.expiry_ms = kNow + 120'000;
    CHECK(s.store(again, kNow + 60'000) == StoreOutcome::stored);
}

TEST_CASE("store - a replayed old expire proof does not hide an identical re-store", "[node][store]") {
    // Review LOW (issue 13): merge took a proven expiry in the past from a proof signed before
    // the row arrived, so a member replaying the owner's old expire hid a stranger's re-store of
    // the same bytes (the same hash) on every replica.
    MessageStore s({":memory:", "", false}, Limits{});
    MessageStore replica({":memory:", "", false}, Limits{});
    auto m = msg(mailbox(1), 0, "again", kNow + 60'000);
    REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    const Bytes old_proof(186, 1);
    REQUIRE(s.expire(mailbox(1), 0, {m.hash}, kNow + 10'000, kNow, {old_proof, kNow}).size() == 1);
    s.sweep(kNow + 60'000);  // held until the expiry it had, then gone
    REQUIRE(s.row_count() == 0);
    // A sender stores the same bytes again with work made now, here and on a replica by
    // replication: the work's timestamp travels with the row and dates it on both.
    const std::uint64_t later = kNow + 300'000;
    auto again = m;
    again.expiry_ms = later + 600'000;
    Payment work{600'000, 0, true, 0, later};
    REQUIRE(s.store(again, later, 0, nullptr, &work) == StoreOutcome::stored);
    ReplicaChange replicated{MessageState{m.hash, mailbox(1), 0, again.expiry_ms, false}, &again.data};
    replicated.payment = &work;
    REQUIRE(replica.merge(replicated, later));
    // A member replays the owner's old expire: refused on both, the row stays served.
    const ReplicaChange replayed{MessageState{m.hash, mailbox(1), 0, kNow + 10'000, false}, nullptr, nullptr, &old_proof,
                                 kNow};
    for (auto* store : {&s, &replica}) {
        CHECK_FALSE(store->merge(replayed, later));
        CHECK(store->retrieve(mailbox(1), 0, {}, later).messages.size() == 1);
    }
    // A proof the owner signed after the work (within the clock window) still applies.
    const Bytes fresh(186, 2);
    CHECK(s.merge({MessageState{m.hash, mailbox(1), 0, later + 10'000, false}, nullptr, nullptr, &fresh, later - 30'000},
                  later));
    CHECK(s.retrieve(mailbox(1), 0, {}, later + 10'000).messages.empty());
}

TEST_CASE("store - after cycles of fill, expiry and refill the file stays within 1.25x of the cap", "[node][store]") {
    // Review MEDIUM (issue 13): pages freed by expiries never went back to the disk, and pages
    // half emptied stayed charged at the rows' model only: the file reached 1.4-1.9x the cap.
    for (const std::string& key : {std::string(64, 'a'), std::string()}) {
        auto path = temp_db("cycles.db");
        Limits limits;
        limits.max_stored_bytes = 1 << 20;
        std::uint64_t now = kNow;
        std::uint32_t next = 0;
        {
            MessageStore s({path, key, false}, limits);
            for (int cycle = 0; cycle < 4; ++cycle) {
                // Rows of mixed sizes, every other one short-lived, until the node is full.
                for (;;) {
                    const std::size_t size = std::array<std::size_t, 4>{1, 300, 1500, 5000}[next % 4];
                    const std::uint64_t expiry = now + (next % 2 == 0 ? 1'000 : 600'000);
                    auto m = msg(numbered_mailbox(next++), 0, std::string(size, 'x'), expiry);
                    auto outcome = s.store(m, now);
                    if (outcome == StoreOutcome::node_full) break;
                    REQUIRE(outcome == StoreOutcome::stored);
                }
                now += 2'000;
                s.sweep(now);
            }
            CHECK(s.stored_bytes() <= limits.max_stored_bytes);
        }  // closed: the write-ahead log is checkpointed into the file
        const auto on_disk = std::filesystem::file_size(path);
        const double ratio = static_cast<double>(on_disk) / static_cast<double>(limits.max_stored_bytes);
        INFO((key.empty() ? "plain: " : "encrypted: ") << next << " stores, file " << on_disk << " bytes, " << ratio
                                                       << "x the cap");
        CHECK(ratio <= 1.25);
        std::filesystem::remove(path);
    }
}

TEST_CASE("store - a file from before incremental vacuum is rebuilt once on opening and keeps its rows",
          "[node][store]") {
    auto path = temp_db("before-vacuum.db");
    auto m = msg(mailbox(1), 0, "kept");
    {
        MessageStore s({path, "", false}, Limits{});
        REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    }
    auto auto_vacuum = [&path] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const int mode = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return mode;
    };
    CHECK(auto_vacuum() == 2);  // a new file: INCREMENTAL
    {
        // As the previous version left its files: no auto-vacuum.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "PRAGMA auto_vacuum = NONE; VACUUM;", nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    REQUIRE(auto_vacuum() == 0);
    {
        MessageStore s({path, "", false}, Limits{});
        CHECK(s.retrieve(mailbox(1), 0, {}, kNow).messages.size() == 1);
    }
    CHECK(auto_vacuum() == 2);
}

TEST_CASE("store - a sweep returns the pages it freed to the disk", "[node][store]") {
    auto path = temp_db("shrinks.db");
    {
        MessageStore s({path, "", false}, Limits{});
        for (std::uint32_t i = 0; i < 300; ++i)
            REQUIRE(s.store(msg(numbered_mailbox(i), 0, std::string(3000, 'x'), kNow + 1'000), kNow) == StoreOutcome::stored);
    }
    const auto full = std::filesystem::file_size(path);
    {
        MessageStore s({path, "", false}, Limits{});
        CHECK(s.sweep(kNow + 2'000) == 300);
    }  // closed: checkpointed, and the file truncated
    const auto swept = std::filesystem::file_size(path);
    INFO("file " << full << " bytes full, " << swept << " after the sweep");
    CHECK(swept < full / 4);
}

namespace {

// The plan of the sweep's delete on the file at `path` (a plain connection; the triggers' charge
// function is stubbed so that the statement compiles).
std::string sweep_plan(const std::string& path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto stub = [](sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_int64(ctx, 0); };
    REQUIRE(sqlite3_create_function(db, "veil_row_bytes", -1, SQLITE_UTF8, nullptr, stub, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    const std::string explain = std::string("EXPLAIN QUERY PLAN ") + MessageStore::kSweepSql;
    REQUIRE(sqlite3_prepare_v2(db, explain.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW) plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return plan;
}

}  // namespace

TEST_CASE("store - the sweep reads only the rows it deletes, not the rows held after an early expiry, also in an "
          "older file",
          "[node][store]") {
    auto path = temp_db("sweep-plan.db");
    auto held = msg(mailbox(1), 0, "held", kNow + 600'000);
    {
        MessageStore s({path, "", false}, Limits{});
        REQUIRE(s.store(held, kNow) == StoreOutcome::stored);
        REQUIRE(s.expire(mailbox(1), 0, {held.hash}, kNow + 1'000, kNow).size() == 1);
    }
    // By the index of the time a row may be swept: a range of the due rows only (by expiry_ms
    // alone, every held row lies in the range and is read at each sweep).
    CHECK_THAT(sweep_plan(path), Catch::Contains("messages_by_sweep"));
    {
        // As the previous version left its files: the index on expiry_ms only.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "DROP INDEX messages_by_sweep; CREATE INDEX messages_by_expiry ON messages (expiry_ms);",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    REQUIRE_THAT(sweep_plan(path), !Catch::Contains("messages_by_sweep"));
    MessageStore s({path, "", false}, Limits{});
    CHECK_THAT(sweep_plan(path), Catch::Contains("messages_by_sweep"));
    CHECK(s.sweep(kNow + 1'000) == 0);  // still held until the expiry it had
    CHECK(s.sweep(kNow + 600'000) == 1);
}

TEST_CASE("store - an older file without room for its one-time rebuild opens in its old mode, rows kept",
          "[node][store]") {
    // A real small file system: a 16 MiB tmpfs (the tests run as root, as the storage ones do).
    auto dir = std::filesystem::path(temp_db("rebuild-mnt"));
    std::filesystem::create_directories(dir);
    REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16m,mode=0700") == 0);
    struct Unmount {
        std::filesystem::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{dir};
    const auto path = (dir / "old.db").string();
    std::vector<StoredMessage> rows;
    for (std::uint8_t i = 0; i < 100; ++i) rows.push_back(msg(mailbox(i), 0, std::string(4000, 'r')));
    {
        MessageStore s({path, "", false}, Limits{});
        for (const auto& m : rows) REQUIRE(s.store(m, kNow) == StoreOutcome::stored);
    }
    {
        // As the previous version left its files: no auto-vacuum.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "PRAGMA auto_vacuum = NONE; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);", nullptr,
                             nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    // Fill the disk, then leave half the file free: the rebuild's copy would not fit.
    const auto file = std::filesystem::file_size(path);
    {
        std::ofstream filler(dir / "filler", std::ios::binary);
        std::string block(4096, '\0');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
        }
    }
    std::filesystem::resize_file(dir / "filler", std::filesystem::file_size(dir / "filler") - file / 2);
    MessageStore s({path, "", false}, Limits{});
    CHECK_THAT(s.compaction_off(), Catch::Contains("free disk"));
    for (const auto& m : rows) CHECK(s.retrieve(m.mailbox, 0, {}, kNow).messages.size() == 1);
    std::filesystem::remove(dir / "filler");
    CHECK(s.sweep(kNow + 60'000) == rows.size());  // it runs on: the sweep works in the old mode
}

TEST_CASE("store - pages left a third full count for kept proofs as they do for stores", "[node][store]") {
    // Review MEDIUM (issue 13): rows built to leave their pages a third full (two short-lived
    // rows beside each long-lived one, swept) made the pages in use far more than the rows'
    // model. Stores were capped and priced by the pages, but keeping a delete's or expire's
    // proof was judged free, and held to the cap, by the model alone.
    Limits limits;
    limits.max_stored_bytes = 1 << 20;
    limits.node_work_free_fraction = 0.45;
    MessageStore s({temp_db("thirds.db"), "", false}, limits);
    // Three rows to a 4 KiB leaf page; the long-lived one keeps its page above a third full, so
    // SQLite does not merge it with its neighbours once the other two are swept.
    std::vector<StoredMessage> lives;
    for (std::uint32_t i = 0;; ++i) {
        const bool long_lived = i % 3 == 0;
        auto m = msg(numbered_mailbox(i), 0, std::string(long_lived ? 1300 : 1230, 'x'),
                     kNow + (long_lived ? 600'000 : 1'000));
        const auto outcome = s.store(m, kNow);
        if (outcome == StoreOutcome::node_full) break;
        REQUIRE(outcome == StoreOutcome::stored);
        if (long_lived) lives.push_back(m);
    }
    s.sweep(kNow + 2'000);
    const double model = static_cast<double>(s.stored_bytes()) / static_cast<double>(limits.max_stored_bytes);
    const double pages = static_cast<double>(s.filled_bytes()) / static_cast<double>(limits.max_stored_bytes);
    INFO("after the sweep: the rows' model " << model << " of the cap, the pages in use " << pages);
    REQUIRE(model < limits.node_work_free_fraction);
    REQUIRE(pages > limits.node_work_free_fraction);
    // An owner expires a row (its share pays), then again with a larger proof: the second grows
    // the node, past the free fraction by its pages, so it is not kept.
    const auto& row = lives.front();
    const Bytes first(100, 1);
    const Bytes second(300, 2);
    REQUIRE(s.expire(row.mailbox, 0, {row.hash}, kNow + 300'000, kNow + 2'000, {first, kNow + 2'000}).size() == 1);
    REQUIRE(s.proof_of(row.hash) == first);
    CHECK(s.expire(row.mailbox, 0, {row.hash}, kNow + 200'000, kNow + 2'000, {second, kNow + 2'001}).size() == 1);
    CHECK(s.proof_of(row.hash) == first);
    // New rows stop at the cap in pages: the file holds the cap, not the cap in rows' model.
    for (std::uint32_t i = 1'000'000;; ++i) {
        const auto outcome = s.store(msg(numbered_mailbox(i), 0, std::string(1260, 'y')), kNow + 2'000);
        if (outcome == StoreOutcome::node_full) break;
        REQUIRE(outcome == StoreOutcome::stored);
    }
    CHECK(s.filled_bytes() <= limits.max_stored_bytes);
}

TEST_CASE("store - a sweep returns up to 16 MiB of free pages, 1 KiB pages of an encrypted file too", "[node][store]") {
    // Review LOW (issue 13): the bound counted pages (4,096), 4 MiB of SQLCipher's 1 KiB pages.
    auto path = temp_db("shrinks-encrypted.db");
    const std::string key(64, 'b');
    {
        MessageStore s({path, key, false}, Limits{});
        for (std::uint32_t i = 0; i < 2'000; ++i)
            REQUIRE(s.store(msg(numbered_mailbox(i), 0, std::string(3000, 'x'), kNow + 1'000), kNow) ==
                    StoreOutcome::stored);
    }
    const auto full = std::filesystem::file_size(path);
    REQUIRE(full > (6u << 20));
    {
        MessageStore s({path, key, false}, Limits{});
        CHECK(s.sweep(kNow + 2'000) == 2'000);
    }
    const auto swept = std::filesystem::file_size(path);
    INFO("file " << full << " bytes full, " << swept << " after one sweep");
    CHECK(swept < full / 4);
}

TEST_CASE("store - a proof paid for by freed bytes is not kept when its pages pass the cap", "[node][store]") {
    // Review LOW (nodefix3): a kept proof was held to the cap only when it grew the rows' model;
    // one paid for by the rows it deleted still took new pages, past the cap. Past the free
    // fraction it is refused as unpaid; with every byte free (fraction 1), by the cap itself.
    const double fraction = GENERATE(0.5, 1.0);
    INFO("free fraction " << fraction);
    Limits limits;
    limits.max_stored_bytes = 1 << 20;
    limits.node_work_free_fraction = fraction;
    MessageStore s({temp_db(fraction < 1 ? "proof-pages.db" : "proof-pages-free.db"), "", false}, limits);
    // Pages left a third full (as in the test above) make the pages in use more than the model.
    for (std::uint32_t i = 0;; ++i) {
        const bool long_lived = i % 3 == 0;
        auto m = msg(numbered_mailbox(i), 0, std::string(long_lived ? 1300 : 1230, 'x'),
                     kNow + (long_lived ? 600'000 : 1'000));
        const auto outcome = s.store(m, kNow);
        if (outcome == StoreOutcome::node_full) break;
        REQUIRE(outcome == StoreOutcome::stored);
    }
    s.sweep(kNow + 2'000);
    // The owner's rows then fill the node to its cap in pages.
    std::vector<Hash> rows;
    for (std::uint32_t i = 0;; ++i) {
        auto m = msg(mailbox(1), 0, std::string(1260, 'y') + std::to_string(i), kNow + 600'000);
        const auto outcome = s.store(m, kNow + 2'000);
        if (outcome == StoreOutcome::node_full) break;
        REQUIRE(outcome == StoreOutcome::stored);
        rows.push_back(m.hash);
    }
    REQUIRE(rows.size() >= 120);
    // The owner deletes 60 of them (every other one) with one dense proof: the model shrinks,
    // but the rows' pages stay in use and the proof takes new ones.
    std::vector<Hash> doomed;
    for (std::size_t i = 0; doomed.size() < 60; i += 2) doomed.push_back(rows[i]);
    const std::uint64_t model_before = s.stored_bytes();
    const Bytes proof(256 + 64 * 60, 7);
    CHECK(s.remove(mailbox(1), 0, doomed, kNow + 2'000, {proof, kNow + 2'000}).size() == doomed.size());
    INFO("model " << model_before << " -> " << s.stored_bytes() << ", filled " << s.filled_bytes());
    CHECK(s.stored_bytes() < model_before);
    CHECK_FALSE(s.proof_of(doomed.front()));
    CHECK(s.filled_bytes() <= limits.max_stored_bytes);
}

TEST_CASE("store - a replicated tombstone whose kept proof passes the cap in pages is refused", "[node][store]") {
    // Review (nodefix3): merge's check after the insert (the proof kept with a new row fits in
    // pages too) had no test. Every byte free, so only the cap stands in the way.
    Limits limits;
    limits.max_stored_bytes = 1 << 20;
    limits.node_work_free_fraction = 1.0;
    MessageStore s({temp_db("merge-pages.db"), "", false}, limits);
    // Filled to the cap with large rows: less room left than a page.
    for (std::uint32_t i = 0;; ++i) {
        auto m = msg(numbered_mailbox(i), 0, std::string(1260, 'x'), kNow + 600'000);
        const auto outcome = s.store(m, kNow);
        if (outcome == StoreOutcome::node_full) break;
        REQUIRE(outcome == StoreOutcome::stored);
    }
    // A member replicates the owner's delete of 60 rows this node never held: the first
    // tombstone (a small row, it fits the cap) brings the 4 KiB proof, which takes new pages.
    std::vector<Hash> named;
    ProofInBatch batch;
    for (std::uint8_t i = 0; i < 60; ++i) {
        named.push_back(message_hash(mailbox(2), 0, Bytes{i}));
        batch.tombstoned.insert(named.back());
    }
    const Bytes proof(256 + 64 * 60, 7);
    ReplicaChange c{MessageState{named.front(), mailbox(2), 0, kNow + 600'000, true}, nullptr, nullptr, &proof, kNow};
    c.proof_hashes = &named;
    c.batch = &batch;
    INFO("filled " << s.filled_bytes() << " of " << limits.max_stored_bytes);
    CHECK_FALSE(s.merge(c, kNow));
    CHECK(s.filled_bytes() <= limits.max_stored_bytes);
    CHECK(s.states_of({named.front()}, kNow).empty());
}
