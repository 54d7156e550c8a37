#pragma once
/// Who may do what: message hashes, owner signatures, the clock window and replay refusal.
///
/// Owner-signed bytes (store, retrieve, subscribe, delete, expire), exactly:
///   "veil-owner-v1" (13 ASCII bytes) || u8 method || mailbox (32) || u16 namespace ||
///   u64 timestamp_ms || extras
/// where extras is `u64 ttl_ms || message_hash (32)` for store, empty for retrieve and
/// subscribe, `u16 n || n hashes` for delete, and `u64 expiry_ms || u16 n || n hashes` for
/// expire. Integers big-endian. The key that verifies
/// is OwnerAuth::owner, an Ed25519 key that is the mailbox or whose X25519 conversion is the
/// mailbox. Retrieve and subscribe in public namespaces (is_public_namespace) are not signed.

#include "veil/crypto/keys.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/replay_window.hpp"

namespace veil::proto::node {

/// The message hash: BLAKE2b-256 over mailbox (32) || u16 namespace (big-endian) || data.
[[nodiscard]] Hash message_hash(const PublicKey& mailbox, std::uint16_t ns, ByteView data);

/// True when owner_ed25519 may act for mailbox: it is the mailbox, or its X25519 conversion is.
[[nodiscard]] bool owns_mailbox(const PublicKey& owner_ed25519, const PublicKey& mailbox);

/// The bytes the owner signs for a request (see the header comment). Throws std::invalid_argument
/// for a body that carries no owner signature (get_swarm, an unsigned store, ...).
[[nodiscard]] Bytes owner_signed_bytes(const RequestBody& body);

/// Client side: fills auth (timestamp, owner key, signature) of a store, retrieve, subscribe,
/// delete or expire body with the owner's key (which must own the mailbox, see owns_mailbox).
void sign_owner_request(RequestBody& body, const crypto::SigningKeyPair& owner, std::uint64_t now_ms);

/// A replicated change's proof: the owner's own signed delete or expire request, encoded with
/// encode_request (request id 0). Replicas apply a deletion or a lower expiry only with one.
[[nodiscard]] Bytes encode_owner_proof(const RequestBody& signed_body);

/// What a verified proof lets a replica do: delete (or, for expire, lower to `expiry_ms`) the
/// listed messages of (mailbox, ns).
struct OwnerChange {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    std::vector<Hash> hashes;
    bool deleted = false;        ///< delete; false: expire
    std::uint64_t expiry_ms = 0;  ///< expire: the new expiry
    std::uint64_t timestamp_ms = 0;  ///< when the owner signed it: orders it against the row's newer owner actions
    [[nodiscard]] bool covers(const Hash& h) const;
};

/// Decodes a proof and checks its owner signature; nullopt when it is malformed, not a delete or
/// expire, or not signed by the mailbox owner. No clock rule: a proof stays valid as long as the
/// tombstone it justifies (it is forwarded in catch-up days later), and replaying it changes
/// nothing the owner did not ask for.
[[nodiscard]] std::optional<OwnerChange> open_owner_proof(ByteView proof);

/// A store auth: the bytes that prove a store was allowed, kept with the row and replicated with
/// it, so that every replica checks it again. `u8 kind || fields`. Kind 1 (owner):
/// `u64 ttl_ms || u64 timestamp_ms || owner (32) || signature (64)`, the owner's signature of the
/// store request exactly as the client sent it. Kind 2: a stranger's proof of work for the
/// envelope namespace (encode_work_auth in store_work.hpp). A replica that does not know a kind
/// treats it as absent.
inline constexpr std::uint8_t kOwnerStoreAuth = 1;
inline constexpr std::uint8_t kWorkStoreAuth = 2;
inline constexpr std::size_t kMaxStoreAuthBytes = 1024;

/// The store auth of an owner-signed store (q.auth must be set).
[[nodiscard]] Bytes encode_store_auth(const StoreRequest& q);

/// What a verified owner store auth says: when the owner signed it, and for how long.
struct OwnerStore {
    std::uint64_t timestamp_ms = 0;
    std::uint64_t ttl_ms = 0;
};

/// Checks a store auth against the message it claims to allow: kind 1, signed by a key that owns
/// the mailbox over this mailbox, namespace and data (message hash). No clock rule (catch-up
/// forwards it days later). nullopt when malformed, of another kind, or not the owner's.
[[nodiscard]] std::optional<OwnerStore> open_store_auth(ByteView auth, const PublicKey& mailbox, std::uint16_t ns,
                                                        ByteView data);

/// The owner-auth and clock rules of the node, with replays refused by the SDK's one replay
/// window (veil/sdk/replay_window.hpp, keyed by a digest of the signature). Thread-safe.
/// Bounded: when full, the oldest entries are forgotten; a fresh request is never refused.
class ReplayGuard final {
public:
    explicit ReplayGuard(std::uint64_t window_ms, std::size_t max_entries = 1 << 20);

    /// Checks the owner-signed request: timestamp within ±window of now, signature by the
    /// mailbox key, and not seen before. Records it on success.
    [[nodiscard]] Status check_owner(const RequestBody& body, std::uint64_t now_ms);
    /// The clock and signature rules only, nothing recorded: for stores, which are idempotent
    /// (a replay inside the clock window moves the owner's own expiry by at most that window), so
    /// they do not fill the replay cache.
    [[nodiscard]] Status verify_owner(const RequestBody& body, std::uint64_t now_ms) const;
    /// The clock and replay rules for any signed message: `signature` (already verified) with
    /// its timestamp. ok, clock_out_of_window or replayed.
    [[nodiscard]] Status check_fresh(const Signature& signature, std::uint64_t timestamp_ms, std::uint64_t now_ms);
    /// Only the clock rule.
    [[nodiscard]] bool in_window(std::uint64_t timestamp_ms, std::uint64_t now_ms) const;
    [[nodiscard]] std::size_t size() const { return window_.size(); }
    /// Entries forgotten early because the cache was full.
    [[nodiscard]] std::uint64_t evicted() const { return window_.evicted(); }

private:
    sdk::ReplayWindow window_;
};

}  // namespace veil::proto::node
