#pragma once
/// Limits a node enforces, and the per-connection rate limiter.

#include <cstdint>
#include <string_view>

#include "veil/proto/peer_rpc.hpp"
#include "veil/sdk/rate_limiter.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/proto/store_work.hpp"

namespace veil::node {

// The node serves the node RPC of the SDK's protocol; its names are used unqualified here.
using namespace veil::proto::node;

/// The node's port (docs/service-node.md §Doors, memory and relays: the limits).
struct DoorLimits {
    std::uint64_t idle_timeout_ms = 60'000;     ///< no complete frame this long: closed
    std::uint64_t frame_deadline_ms = 30'000;   ///< a frame completes this long after its first byte
    std::size_t max_connections = 1024;
    std::size_t connections_per_source = 64;    ///< per IPv4 address / IPv6 /64
    std::size_t connections_per_group = 256;    ///< per IPv4 /24 / IPv6 /48
    std::size_t held_long_polls_per_group = 64; ///< connections per group an owner's long-poll keeps from yielding
    std::size_t held_long_polls = 512;          ///< the whole node: half the slots always can yield
    bool loopback_per_connection = false;       ///< testnets only: loopback connections apart
    std::size_t partial_frame_budget = 64 << 20;  ///< all partial frames of the node together
    // Largest request body per service: nothing the node serves needs a large frame
    // (attachments travel in 64 KiB chunks, onion blobs of a request in 256 KiB buckets).
    std::size_t storage_frame = 256 << 10;
    std::size_t peer_frame = 1 << 20;
    std::size_t onion_frame = 1 << 20;
    std::size_t attachments_frame = 1 << 20;
    std::size_t other_frame = 64 << 10;
};

/// The least one row costs the node's disk beyond its data, store auth and proof bytes (a row is
/// charged by its pages, row_charge.hpp, never less): its hash,
/// mailbox, namespace and times, its entries in the four indexes, and b-tree slack. Measured on
/// the SQLCipher store (1-byte envelopes, 40,000 rows: ~220 bytes a row on disk) and rounded up;
/// every row, a tombstone too, is charged it against max_stored_bytes (docs/service-node.md
/// §Pricing the node's bytes), so a flood of tiny messages stops at the cap, not far past it.
constexpr std::uint64_t kRowOverheadBytes = 256;

/// Configurable limits (defaults as documented in docs/service-node.md §Limits).
struct Limits {
    std::size_t max_data_bytes = 76800;
    std::uint64_t min_ttl_ms = 10 * 1000;
    std::uint64_t max_ttl_ms = 14ULL * 24 * 3600 * 1000;
    // Quotas count per (mailbox, namespace): junk in one namespace cannot block another.
    std::uint64_t max_messages_per_mailbox = 10000;
    std::uint64_t max_bytes_per_mailbox = 100ULL << 20;
    // Tombstones and the owner proofs kept for them count apart, so deleting never fills the
    // quota of live messages, and a member cannot fill the disk with proven tombstones. Past the
    // proof quota the oldest proofs are forgotten: the owner's deletes are never refused.
    std::uint64_t max_tombstones_per_mailbox = 10000;
    std::uint64_t max_proof_bytes_per_mailbox = 8ULL << 20;
    /// The whole node: every row by the pages it takes (row_charge_bytes), plus the
    /// proofs kept. New messages
    /// (stored or replicated) are refused past it; reads, deletes and expiries go on.
    std::uint64_t max_stored_bytes = 16ULL << 30;
    /// What a stranger's store into the envelope namespace must prove, by how full that
    /// namespace is (docs/service-node.md §Pricing strangers' stores).
    WorkPricing work;
    /// What every store that adds bytes (owner-signed ones too) must prove, by how full the
    /// whole node is against max_stored_bytes (docs/service-node.md §Pricing the node's bytes):
    /// free under this fraction of the cap, then the `work` curve (base and exponent).
    double node_work_free_fraction = 0.5;
    std::uint32_t max_page_count = 1000;
    std::uint32_t max_page_bytes = 8 << 20;
    std::uint32_t max_subscribe_wait_ms = 60 * 1000;
    std::uint64_t clock_window_ms = 60 * 1000;
    double requests_per_second = 50;  ///< per connection, sustained
    double request_burst = 200;       ///< per connection, bucket size
    /// Peer budgets, each of requests and envelope bytes: one per link (the connection a peer
    /// frame came by, charged before anything is checked) and one per swarm member (by node key,
    /// charged once its signature verified). The byte burst admits two largest envelopes; a
    /// catch-up of a full store stays well under the request rate.
    double peer_requests_per_second = 500;
    double peer_request_burst = 2000;
    double peer_bytes_per_second = 16 << 20;
    double peer_byte_burst = 32 << 20;
    /// Per swarm peer: owner signatures (proofs, store auths) verified for what it sends.
    double peer_verifies_per_second = 2000;
    double peer_verify_burst = 20000;
    /// A bucket page a node answers in catch-up: at most this many states and about this many
    /// bytes (proofs included; at most kMaxStatesPerPage and kMaxPageBytes).
    std::size_t bucket_page_states = kMaxStatesPerPage;
    std::size_t bucket_page_bytes = kMaxPageBytes;
    /// A summary (catch-up) answer is computed at most this often and served from a copy in
    /// between, so a flood of summary requests reads the whole store at most once per period
    /// (0: every request reads it).
    std::uint64_t summary_max_age_ms = 1000;
    DoorLimits doors;
};

/// The work a store of `data_bytes` for `ttl_ms` must prove at the node's fill (`stored_bytes` of
/// max_stored_bytes), priced in 10 KiB slots like an envelope; 0 while under the free fraction.
[[nodiscard]] std::uint64_t node_store_work(const Limits& limits, std::uint64_t stored_bytes, std::size_t data_bytes,
                                            std::uint64_t ttl_ms);

/// Largest request body accepted for `service` on the node's port.
[[nodiscard]] std::size_t max_body_for(const DoorLimits& doors, std::string_view service);

/// Whether a store's TTL is one a client may ask (min_ttl_ms … max_ttl_ms); replicas hold the
/// TTL a store auth names to the same rule.
[[nodiscard]] bool ttl_in_range(const Limits& limits, std::uint64_t ttl_ms);
/// Size and TTL of a store: ok, too_large or bad_ttl.
[[nodiscard]] Status check_store(const Limits& limits, const StoreRequest& q);
/// A new absolute expiry for expire: ok or bad_ttl (must be in the future and within max TTL).
[[nodiscard]] Status check_expiry(const Limits& limits, std::uint64_t expiry_ms, std::uint64_t now_ms);
/// Clamps a client's page to the node's caps.
[[nodiscard]] PageQuery clamp_page(const Limits& limits, PageQuery page);

using sdk::RateLimiter;  // one token bucket for every service (veil/sdk/rate_limiter.hpp)

/// A peer budget (Limits::peer_*): one request and its envelope's bytes per allow().
class PeerBudget final {
public:
    explicit PeerBudget(const Limits& limits);
    /// True (and takes one request and `bytes`) when both buckets hold enough; takes nothing
    /// otherwise.
    bool allow(std::uint64_t now_ms, std::size_t bytes);
    [[nodiscard]] std::uint64_t last_ms() const { return requests_.last_ms(); }

private:
    RateLimiter requests_;
    RateLimiter bytes_;
};

}  // namespace veil::node
