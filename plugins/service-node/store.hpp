#pragma once
/// The node's message store: SQLite through the SQLCipher library, WAL.
/// Each row holds only mailbox, namespace, hash, expiry and ciphertext (NULL once deleted: a
/// tombstone kept until the expiry so that catch-up does not bring the message back).
/// Thread-safe (one connection behind a mutex); calls block on disk, so run them off the loop.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "limits.hpp"
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
    duplicate,       ///< the same message was already there: kept once
    quota_exceeded,  ///< the mailbox's namespace is full
};

/// Messages in SQLite. See the header comment for the threading rule.
class MessageStore final {
public:
    MessageStore(const StoreOptions& options, const Limits& limits);
    ~MessageStore();
    MessageStore(const MessageStore&) = delete;
    MessageStore& operator=(const MessageStore&) = delete;

    /// Stores m (its hash must be message_hash of its fields). Idempotent: a second store of
    /// the same message keeps one row, and its expiry unless `extend` (an owner-signed re-store)
    /// asks for a later one. `held_expiry_ms`, when given, receives the expiry the row now has.
    /// Quotas (Limits::max_*_per_mailbox) count per (mailbox, namespace).
    StoreOutcome store(const StoredMessage& m, std::uint64_t now_ms, bool extend = false,
                       std::uint64_t* held_expiry_ms = nullptr);
    /// Live messages of (mailbox, ns) after the cursor hash, in arrival order, at most count
    /// messages and bytes (at least one message if any). An unknown cursor starts from the first.
    PageResponse retrieve(const PublicKey& mailbox, std::uint16_t ns, const PageQuery& page, std::uint64_t now_ms);
    /// Deletes (tombstones) the listed messages; returns those that were live. `proof`: the
    /// owner's request (encode_owner_proof), kept with each tombstone for catch-up.
    std::vector<Hash> remove(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                             std::uint64_t now_ms, const Bytes& proof = {});
    /// Lowers the expiry of the listed live messages to expiry_ms; returns those changed.
    std::vector<Hash> expire(const PublicKey& mailbox, std::uint16_t ns, const std::vector<Hash>& hashes,
                             std::uint64_t expiry_ms, std::uint64_t now_ms, const Bytes& proof = {});
    /// Deletes every row (tombstones too) whose expiry has passed; returns how many.
    std::size_t sweep(std::uint64_t now_ms);

    /// For reconciliation: every unexpired row's state whose mailbox passes `keep`.
    std::vector<MessageState> states(std::uint64_t now_ms, const std::function<bool(const PublicKey&)>& keep);
    /// Merges a replica's state (and data for a message this store lacks). Returns true if
    /// anything changed. Without `proof` it can only add a message (with its data); with one it
    /// can also delete or lower the expiry of a row of the same mailbox and namespace, and keeps
    /// the proof with the row. The caller passes only a proof it verified covers `s`.
    bool merge(const MessageState& s, const Bytes* data, const Bytes* proof, std::uint64_t now_ms);
    /// The owner's proof kept with a row (tombstone or shortened), if any.
    std::optional<Bytes> proof_of(const Hash& hash);
    /// Live messages by hash (for a peer that lacks them), up to max_bytes of data.
    std::vector<StoredMessage> fetch(const std::vector<Hash>& hashes, std::size_t max_bytes, std::uint64_t now_ms);

    /// How full (mailbox, ns) is (live messages and bytes) against its quota: what a stranger's
    /// store is priced by (store_work.hpp).
    MailboxFill fill(const PublicKey& mailbox, std::uint16_t ns);

    /// Rows (live and tombstones) and live messages; for tests and info.
    [[nodiscard]] std::size_t row_count();

private:
    struct Usage {
        std::uint64_t messages = 0;
        std::uint64_t bytes = 0;
    };
    sql::Statement& prepare(const char* text);
    Usage& usage_of(const PublicKey& mailbox, std::uint16_t ns);  // mutex held
    bool lower_expiry(const Hash& hash, std::uint64_t expiry_ms, const Bytes& proof);
    bool tombstone(const Hash& hash, const Bytes& proof);

    Limits limits_;
    std::mutex mutex_;
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, std::unique_ptr<sql::Statement>> statements_;  // by literal
    std::unordered_map<std::string, Usage> usage_;  // live usage per (mailbox, namespace), loaded lazily
};

}  // namespace veil::node
