#pragma once
/// The node's message store: SQLite through the SQLCipher library, WAL.
/// Each row holds only mailbox, namespace, hash, expiry and ciphertext (NULL once deleted: a
/// tombstone kept until the expiry so that catch-up does not bring the message back), and what
/// the owner signed for it: the store auth, a reference to the owner's delete or expire proof
/// (each proof is kept once, in its own table), and the time of the newest owner signature. A
/// row its owner expired early is held (unserved) until the expiry it had (`held_ms`), so that a
/// member that missed the expire cannot bring it back.
/// Thread-safe (one connection behind a mutex); calls block on disk, so run them off the loop.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "limits.hpp"
#include "row_charge.hpp"
#include "veil/proto/store_work.hpp"
#include "veil/proto/peer_rpc.hpp"
#include "veil/sql/statement.hpp"

namespace veil::node {

// The node serves the node RPC of the SDK's protocol; its names are used unqualified here.
using namespace veil::proto::node;


/// Thrown when the store fails (disk full, corrupt file, wrong key); the message names the step.
using StoreError = sql::Error;

/// Opening options.
struct StoreOptions {
    std::string path;           ///< file, or ":memory:"
    std::string key_hex;        ///< 64 hex digits: SQLCipher raw key; empty: not encrypted
    bool synchronous_full = false;  ///< NORMAL is enough for kill -9 in WAL mode (see docs)
};

/// Outcome of a store.
enum class StoreOutcome : std::uint8_t {
    stored = 1,      ///< new row
    duplicate,       ///< the same message was already there: kept once (and free)
    quota_exceeded,  ///< the mailbox's namespace is full
    node_full,       ///< the node holds Limits::max_stored_bytes
    unpaid,          ///< the price at the namespace's fill is above the work the store proves
    held,            ///< an owner's re-store signed after the owner expired the row early: it stays held
};

/// What a store that adds bytes pays with (store_work.hpp). Every such store pays by the node's
/// fill (node_store_work); a stranger's envelope also by its namespace's fill. The price is read
/// under the store's lock, in the same step as the insert, so simultaneous stores cannot all
/// slip in under the free threshold.
struct Payment {
    std::uint64_t ttl_ms = 0;       ///< the TTL the price is for
    std::uint64_t proven_work = 0;  ///< the work the store's proof meets (0: none)
    bool by_mailbox = true;         ///< a stranger's envelope: priced by its namespace's fill too
    std::uint64_t asked_work = 0;   ///< out: the price, when the outcome is unpaid
    std::uint64_t work_ms = 0;      ///< the work's timestamp, kept with the row (0: no work)
};

/// The owner's signed request behind a delete or expire: its bytes (encode_owner_proof),
/// kept once and referenced by each row it changed, and when the owner signed it.
struct OwnerProof {
    Bytes bytes;
    std::uint64_t signed_ms = 0;
};

/// What one replicate request says about one proof it cites, shared by its ops: the hashes it
/// tombstones with the proof (held for the density rule: the replica is being told of them) and
/// the density verdict, decided once per request.
struct ProofInBatch {
    std::set<Hash> tombstoned;
    std::optional<bool> dense;
    /// Rows the request changed with the proof that did not yet pay for keeping it, and the bytes
    /// those changes freed: a later op of the request keeps the proof for them all.
    std::vector<Hash> waiting;
    std::uint64_t freed_bytes = 0;
};

/// A replica's change, verified by the caller (StorageService::apply_replica).
struct ReplicaChange {
    MessageState state;
    const Bytes* data = nullptr;        ///< for a message this store may lack
    const Bytes* store_auth = nullptr;  ///< verified store auth, kept with a new row
    const Bytes* proof = nullptr;       ///< owner proof verified to cover `state`
    std::uint64_t owner_ms = 0;         ///< when the owner signed the store auth or proof (0: none)
    Payment* payment = nullptr;         ///< a stranger's store: priced against this store's fill
    const std::vector<Hash>* proof_hashes = nullptr;  ///< every hash the proof names (null: state's only)
    ProofInBatch* batch = nullptr;      ///< the proof's share of the request (null: this op alone)
};

/// Messages in SQLite. See the header comment for the threading rule.
class MessageStore final {
public:
    MessageStore(const StoreOptions& options, const Limits& limits);
    ~MessageStore();
    MessageStore(const MessageStore&) = delete;
    MessageStore& operator=(const MessageStore&) = delete;

    /// Stores m (its hash must be message_hash of its fields, m.store_auth is kept with it).
    /// Idempotent: a second store of the same message keeps one row, and its expiry unless an
    /// owner-signed re-store (`owner_ms`: the time of the owner's signature, 0 for none) asks for
    /// a later one; a newer owner signature also becomes the row's generation and store auth.
    /// `held_expiry_ms`, when given, receives the expiry the row now has. A store of a message
    /// already held is a duplicate before anything is counted; only an owner's refresh (a later
    /// expiry) is priced, as a new store would be at the node's fill (unpaid when short). A row
    /// its owner expired early stays held: a store of it is a duplicate that names the lowered
    /// expiry. A new row's generation (row_generation) comes from what travels with it, the same
    /// on every member: an owner proof signed before it does not change the row.
    /// Quotas (Limits::max_*_per_mailbox) count per (mailbox, namespace); Limits::max_stored_bytes
    /// for the whole node. A `payment` is checked against the price at the namespace's fill.
    StoreOutcome store(const StoredMessage& m, std::uint64_t now_ms, std::uint64_t owner_ms = 0,
                       std::uint64_t* held_expiry_ms = nullptr, Payment* payment = nullptr);
    /// Live messages of (mailbox, ns) after the cursor hash, in arrival order, at most count
    /// messages and bytes (at least one message if any). An unknown cursor starts from the first.
    PageResponse retrieve(const PublicKey& mailbox, std::uint16_t ns, const PageQuery& page, std::uint64_t now_ms);
    /// Deletes (tombstones) the listed messages; returns those that were live. Rows whose newest
    /// owner signature is later than the proof's are left alone. Never refused by the proof
    /// quota (Limits::max_proof_bytes_per_mailbox): the namespace's oldest proofs are forgotten
    /// to keep this one (their rows stay as they are, without a proof to pass on). Without a proof
    /// (a local caller) the change counts as signed now.
    std::vector<Hash> remove(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                             std::uint64_t now_ms, const OwnerProof& proof = {});
    /// Lowers the expiry of the listed live messages to expiry_ms; returns those changed (as remove).
    std::vector<Hash> expire(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                             std::uint64_t expiry_ms, std::uint64_t now_ms, const OwnerProof& proof = {});
    /// Deletes every row (tombstones too) whose expiry (and hold, for a row expired early) has
    /// passed, and the proofs no row refers to any more, then returns up to
    /// kCompactBytesPerSweep of free pages to the disk; returns how many rows.
    std::size_t sweep(std::uint64_t now_ms);
    /// Why the file does not give freed pages back to the disk (an older file whose one-time
    /// rebuild found no room or failed; the node runs on, see docs); empty when it does.
    [[nodiscard]] const std::string& compaction_off() const { return compaction_off_; }
    /// The sweep's delete (?1: now), through the index messages_by_sweep (tests check its plan).
    static constexpr const char* kSweepSql = "DELETE FROM messages WHERE max(expiry_ms, held_ms) <= ?1";

    /// Every unexpired row's state whose mailbox passes `keep`: one vector of the whole store, for
    /// tests and small stores only (the node uses summary() and states_of()).
    std::vector<MessageState> states(std::uint64_t now_ms, const std::function<bool(const PublicKey&)>& keep);
    /// For reconciliation: the summary (peer_rpc.hpp) of the unexpired rows whose mailbox passes
    /// `keep`, read in hash order a chunk of kSummaryChunk rows at a time with the lock released
    /// in between: memory stays the same however many rows, and stores are not held behind it.
    Summary summary(std::uint64_t now_ms, const std::function<bool(const PublicKey&)>& keep);
    static constexpr std::size_t kSummaryChunk = 4096;
    /// Free bytes a sweep returns to the disk at most (PRAGMA incremental_vacuum of this many
    /// bytes' pages: 4,096 pages of 4 KiB, 16,384 of SQLCipher's 1 KiB), so one sweep holds stores
    /// back for a bounded time.
    static constexpr std::size_t kCompactBytesPerSweep = 16 << 20;
    /// The unexpired states of those hashes this store holds (a catch-up page's local side).
    std::vector<MessageState> states_of(const std::vector<Hash>& hashes, std::uint64_t now_ms);
    /// Merges a replica's change. Returns true if anything changed. Without a proof it can only
    /// add a message (with its data, within the namespace's and the node's quota, and paid when
    /// c.payment says so); with one it can also add a
    /// tombstone (within the tombstone quota), or delete or lower the expiry of a row of the same
    /// mailbox and namespace whose newest owner signature is not later than the proof's, and
    /// keeps the proof with the row (forgetting the namespace's oldest proofs past the quota). A
    /// proven lower expiry may lie in the past: it applies to a row held here and makes none.
    bool merge(const ReplicaChange& c, std::uint64_t now_ms);
    /// For a catch-up page: the unexpired states of `bucket` (first hash byte) above `after`,
    /// whose mailbox passes `keep`, in hash order, each with the owner proof kept for its row;
    /// at most `max_states`, and none more once `max_bytes` are reached (a state counted as 128
    /// bytes plus its proof); `more` when states remain. One range scan of the hash index with
    /// the proofs joined in: the cost follows the page, not the store.
    BucketPage bucket_page(std::uint8_t bucket, const std::optional<Hash>& after, std::uint64_t now_ms,
                           const std::function<bool(const PublicKey&)>& keep, std::size_t max_states,
                           std::size_t max_bytes);
    /// The owner's proof kept with a row (tombstone or shortened), if any.
    std::optional<Bytes> proof_of(const Hash& hash);
    /// The store auth kept with a row, if any.
    std::optional<Bytes> store_auth_of(const Hash& hash);
    /// Distinct proofs kept (each once, however many rows refer to it); for tests.
    [[nodiscard]] std::size_t proof_count();
    /// How many times a proof's density was evaluated (row lookups); for tests.
    [[nodiscard]] std::uint64_t density_checks();
    /// Live messages by hash (for a peer that lacks them), up to max_bytes of data.
    std::vector<StoredMessage> fetch(const std::vector<Hash>& hashes, std::size_t max_bytes, std::uint64_t now_ms);

    /// How full (mailbox, ns) is (live messages and bytes) against its quota: what a stranger's
    /// store is priced by (store_work.hpp).
    MailboxFill fill(const PublicKey& mailbox, std::uint16_t ns);

    /// Rows (live and tombstones) and live messages; for tests and info.
    [[nodiscard]] std::size_t row_count();
    /// Bytes the node holds: data and store auths of every row, and every proof kept
    /// (what Limits::max_stored_bytes caps).
    [[nodiscard]] std::uint64_t stored_bytes();
    /// What the cap and the price see: the larger of stored_bytes() and the pages in use (a page
    /// left part full by rows swept out of its middle counts whole).
    [[nodiscard]] std::uint64_t filled_bytes();

private:
    struct Usage {
        std::uint64_t messages = 0;  // live
        std::uint64_t bytes = 0;     // live data
        std::uint64_t tombstones = 0;
        std::uint64_t proof_bytes = 0;
    };
    sql::Statement& prepare(const char* text);
    void migrate();
    void update_totals();  // the node's byte total and its triggers, at the current accounting
    Usage& usage_of(const PublicKey& mailbox, std::uint16_t ns);  // mutex held
    std::uint64_t stored_bytes_locked();
    std::uint64_t filled_bytes_locked();  // what the cap and the price see: rows' model or pages in use
    // Whether `bytes` more fit the node's cap, and whether a payment meets the price at u's fill.
    // `filled`: filled_bytes_locked(), read once by the caller for all its checks.
    bool node_fits(std::size_t bytes, std::uint64_t filled);
    bool row_fits(std::size_t blob_bytes, bool live, std::uint64_t filled);  // a new row: row_total_bytes, the shares it owes included
    std::uint64_t page_bytes_in_use_locked();  // the file's pages in use, less an empty store's
    std::uint64_t row_generation(std::uint64_t owner_ms, const Payment* payment) const;
    bool paid(const Usage& u, std::size_t data_bytes, Payment& payment, std::uint64_t filled);
    // Keeps a proof once (under its hash) for (mailbox, ns), forgetting the namespace's oldest
    // proofs when it would pass the quota; false for a proof larger than the quota itself, or
    // padded: naming more hashes than this node holds of the namespace (proof_is_dense). The
    // caller checks the node's byte cap. `batch` (may be null) keeps the density verdict.
    bool keep_proof(const PublicKey& mailbox, std::uint16_t ns, ByteView proof, std::uint64_t signed_ms,
                    const std::vector<Hash>& named, Hash& proof_hash, ProofInBatch* batch = nullptr);
    // After a delete (`deletes`) or expire changed the rows `changed` (the node held
    // `total_before` bytes before it): keeps the proof (keep_proof) and refers those rows, and
    // the batch's waiting ones, to it, when it changed something and the node is under its free
    // fraction or the change freed at least the proof's bytes (the rows' proof shares and the
    // proofs they no longer need count as freed). False when not kept (the change stands; it is
    // just not passed on).
    bool keep_proof_for(const PublicKey& mailbox, std::uint16_t ns, const OwnerProof& proof, bool deletes,
                        const std::vector<Hash>& named, const std::vector<Hash>& changed, std::uint64_t total_before,
                        ProofInBatch* batch = nullptr);
    // Refers `rows` to a kept proof (an expire proof: live rows only) and drops the proofs they
    // referred to that no row needs any more; false when no row refers to it.
    bool refer_to_proof(const std::vector<Hash>& rows, const Hash& proof_hash, bool deletes);
    // Whether a proof's bytes are paid for by rows this node holds: at most kProofBaseBytes plus
    // kProofBytesPerRow for each distinct named hash that is a row of (mailbox, ns) here or that
    // `also_held` (may be null) lists.
    bool proof_is_dense(const PublicKey& mailbox, std::uint16_t ns, std::size_t proof_bytes,
                        const std::vector<Hash>& named, const std::set<Hash>* also_held);
    // Forgets the oldest signed proof of (mailbox, ns) and unreferences its rows, unless it was
    // signed after `than_ms` (then nothing is forgotten: newer).
    enum class Forgot : std::uint8_t { older = 1, newer, none };
    Forgot forget_oldest_proof(const PublicKey& mailbox, std::uint16_t ns, std::uint64_t than_ms, Usage& u);
    // proof_hash null: the change applies without a proof kept for it.
    bool lower_expiry(const Hash& hash, std::uint64_t expiry_ms, const Hash* proof_hash, std::uint64_t owner_ms);
    bool tombstone(const Hash& hash, const Hash* proof_hash, std::uint64_t owner_ms);

    Limits limits_;
    PageLayout page_;  // the file's, for the row charge (veil_row_bytes in SQL)
    std::uint64_t empty_pages_ = 0;  // pages an empty store takes (not charged)
    std::string compaction_off_;     // compaction_off()
    std::mutex mutex_;
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, std::unique_ptr<sql::Statement>> statements_;  // by literal
    std::unordered_map<std::string, Usage> usage_;  // live usage per (mailbox, namespace), loaded lazily
    std::uint64_t density_checks_ = 0;
};

}  // namespace veil::node
