#pragma once
/// Proof of work on strangers' stores into the envelope namespace (docs/service-node.md
/// §Pricing strangers' stores). Work is counted in expected BLAKE2b hashes: a proof for `work`
/// is a nonce whose work hash, read as a big-endian u64 from its first 8 bytes, is at most
/// (2^64 - 1) / work. Free (0) while the mailbox's namespace is under a quarter full; steep
/// near the quota; scaled by the store's size and TTL. Pure functions; any thread.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "veil/proto/node_rpc.hpp"

namespace veil::proto::node {

inline constexpr std::string_view kStoreWorkDomain = "veil-store-work-v1";
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

/// BLAKE2b-256(domain ‖ mailbox ‖ u16 ns ‖ message_hash ‖ u64 ttl_ms ‖ u64 nonce).
[[nodiscard]] Hash store_work_hash(const StoreRequest& q, const Hash& message_hash, std::uint64_t nonce);

/// True when the store's work nonce proves `work` (work 0 needs no nonce; otherwise a nonce
/// must be present). `message_hash` is message_hash(q.mailbox, q.ns, q.data).
[[nodiscard]] bool store_work_meets(const StoreRequest& q, const Hash& message_hash, std::uint64_t work);

/// Client side: searches nonces from a random start until one proves `work`, sets q.work_nonce
/// and returns true. Returns false, q unchanged, when `stop` becomes true or `max_tries` pass.
/// CPU-bound (expected `work` hashes): call it off the loop thread.
bool solve_store_work(StoreRequest& q, std::uint64_t work, const std::atomic<bool>* stop = nullptr,
                      std::uint64_t max_tries = UINT64_MAX);

}  // namespace veil::proto::node
