#pragma once
/// Proof of work on strangers' stores into the envelope namespace (docs/service-node.md
/// §Pricing strangers' stores). Work is counted in expected BLAKE2b hashes: a proof for `work`
/// is a nonce whose work hash, read as a big-endian u64 from its first 8 bytes, is at most
/// (2^64 - 1) / work. Free (0) while the mailbox's namespace is under a quarter full; steep
/// near the quota; scaled by the store's size and TTL. A proof is stamped with the sender's clock
/// and buys the stretch from its timestamp to timestamp + TTL: a node takes it while
/// store_work_live and stores the message until min(timestamp, now) + TTL, so re-sending it
/// after the message expired proves nothing. Pure functions; any thread.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "veil/proto/node_rpc.hpp"

namespace veil::proto::node {

inline constexpr std::string_view kStoreWorkDomain = "veil-store-work-v2";
/// The most work a node may ask (above it nobody could pay; a full mailbox is refused anyway).
inline constexpr std::uint64_t kMaxStoreWork = 1ULL << 60;

/// How a node prices a store (its config: [service-node] work_* keys).
struct WorkPricing {
    double free_fraction = 0.25;      ///< no work below this fill (1: never any work)
    double base_work = 16384;         ///< hashes at the free threshold for a full-TTL 1-slot message
    double exponent = 3;              ///< how steeply work rises as headroom shrinks
    std::uint64_t full_ttl_ms = 14ULL * 24 * 3600 * 1000;  ///< the TTL base_work is quoted for
    std::uint64_t min_ttl_ms = 3600 * 1000;                ///< shorter TTLs pay as this one
};

/// How full one (mailbox, namespace) is on a node, with its quota.
struct MailboxFill {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t max_messages = 1;
    std::uint64_t max_bytes = 1;
};

/// Expected hashes a store of `data_bytes` for `ttl_ms` into a namespace this full must prove
/// (0: none). Saturates at kMaxStoreWork.
[[nodiscard]] std::uint64_t required_store_work(const WorkPricing& pricing, const MailboxFill& fill,
                                                std::size_t data_bytes, std::uint64_t ttl_ms);

/// BLAKE2b-256(domain ‖ mailbox ‖ u16 ns ‖ message_hash ‖ u64 ttl_ms ‖ u64 timestamp_ms ‖ u64 nonce).
[[nodiscard]] Hash store_work_hash(const StoreRequest& q, const Hash& message_hash, const StoreWork& work);

/// The most work a proof meets: the largest `work` whose target its hash is under (0: no proof).
/// Binds the mailbox, namespace, message hash, TTL and timestamp.
[[nodiscard]] std::uint64_t proven_store_work(const PublicKey& mailbox, std::uint16_t ns, const Hash& message_hash,
                                              std::uint64_t ttl_ms, const StoreWork& work);

/// True when the store's work proves `work` (work 0 needs no proof; otherwise q.work must be
/// present). `message_hash` is message_hash(q.mailbox, q.ns, q.data). No clock rule.
[[nodiscard]] bool store_work_meets(const StoreRequest& q, const Hash& message_hash, std::uint64_t work);

/// The clock rule: a proof counts while its timestamp is at most `clock_window_ms` ahead of the
/// node's clock and the stretch it bought (timestamp + TTL) has not ended.
[[nodiscard]] bool store_work_live(const StoreWork& work, std::uint64_t ttl_ms, std::uint64_t now_ms,
                                   std::uint64_t clock_window_ms);

/// Client side: stamps q.work with `timestamp_ms` (default: the wall clock now), searches nonces
/// from a random start until one proves `work`, sets q.work and returns true. Returns false, q
/// unchanged, when `stop` becomes true or `max_tries` pass. CPU-bound (expected `work` hashes):
/// call it off the loop thread.
bool solve_store_work(StoreRequest& q, std::uint64_t work, const std::atomic<bool>* stop = nullptr,
                      std::uint64_t max_tries = UINT64_MAX, std::optional<std::uint64_t> timestamp_ms = std::nullopt);

/// Store auth kind 2 (owner_auth.hpp): a stranger's paid store, `u8 2 ‖ u64 ttl_ms ‖
/// u64 timestamp_ms ‖ u64 nonce`, kept with the row and replicated with it, so every replica
/// prices the store again against its own fill. q.work must be set.
[[nodiscard]] Bytes encode_work_auth(const StoreRequest& q);

/// What a kind-2 store auth proves for a message: its TTL and time, and the work it meets.
struct PaidStore {
    std::uint64_t ttl_ms = 0;
    StoreWork work;
    std::uint64_t proven_work = 0;
};

/// Decodes a kind-2 store auth for the message (mailbox, ns, message_hash); nullopt when malformed
/// or of another kind. No clock rule (catch-up forwards it later).
[[nodiscard]] std::optional<PaidStore> open_work_auth(ByteView auth, const PublicKey& mailbox, std::uint16_t ns,
                                                      const Hash& message_hash);

}  // namespace veil::proto::node
