#pragma once
/// Limits a node enforces, and the per-connection rate limiter.

#include <cstdint>
#include <string_view>

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
    std::size_t partial_frame_budget = 64 << 20;  ///< all partial frames of the node together
    // Largest request body per service: nothing the node serves needs a large frame
    // (attachments travel in 64 KiB chunks, onion blobs of a request in 256 KiB buckets).
    std::size_t storage_frame = 256 << 10;
    std::size_t peer_frame = 1 << 20;
    std::size_t onion_frame = 1 << 20;
    std::size_t attachments_frame = 1 << 20;
    std::size_t other_frame = 64 << 10;
};

/// Configurable limits (defaults as documented in docs/service-node.md §Limits).
struct Limits {
    std::size_t max_data_bytes = 76800;
    std::uint64_t min_ttl_ms = 10 * 1000;
    std::uint64_t max_ttl_ms = 14ULL * 24 * 3600 * 1000;
    // Quotas count per (mailbox, namespace): junk in one namespace cannot block another.
    std::uint64_t max_messages_per_mailbox = 10000;
    std::uint64_t max_bytes_per_mailbox = 100ULL << 20;
    /// What a stranger's store into the envelope namespace must prove, by how full that
    /// namespace is (docs/service-node.md §Pricing strangers' stores).
    WorkPricing work;
    std::uint32_t max_page_count = 1000;
    std::uint32_t max_page_bytes = 8 << 20;
    std::uint32_t max_subscribe_wait_ms = 60 * 1000;
    std::uint64_t clock_window_ms = 60 * 1000;
    double requests_per_second = 50;  ///< per connection, sustained
    double request_burst = 200;       ///< per connection, bucket size
    /// Per swarm peer (by node key): requests and envelope bytes. The byte burst admits two
    /// largest envelopes; a catch-up of a full store stays well under the request rate.
    double peer_requests_per_second = 500;
    double peer_request_burst = 2000;
    double peer_bytes_per_second = 16 << 20;
    double peer_byte_burst = 32 << 20;
    DoorLimits doors;
};

/// Largest request body accepted for `service` on the node's port.
[[nodiscard]] std::size_t max_body_for(const DoorLimits& doors, std::string_view service);

/// Size and TTL of a store: ok, too_large or bad_ttl.
[[nodiscard]] Status check_store(const Limits& limits, const StoreRequest& q);
/// A new absolute expiry for expire: ok or bad_ttl (must be in the future and within max TTL).
[[nodiscard]] Status check_expiry(const Limits& limits, std::uint64_t expiry_ms, std::uint64_t now_ms);
/// Clamps a client's page to the node's caps.
[[nodiscard]] PageQuery clamp_page(const Limits& limits, PageQuery page);

/// Token bucket: `rate` tokens a second up to `burst`; a request costs `cost` tokens (default one).
/// The caller passes the clock, so it is deterministic in tests. One per connection, loop thread.
class RateLimiter final {
public:
    RateLimiter(double rate_per_s, double burst);
    /// True (and takes a token) when the request may go on.
    bool allow(std::uint64_t now_ms, double cost = 1.0);
    /// When allow() was last called (for dropping idle limiters).
    [[nodiscard]] std::uint64_t last_ms() const { return last_ms_; }

private:
    double rate_per_ms_;
    double burst_;
    double tokens_;
    std::uint64_t last_ms_ = 0;
    bool started_ = false;
};

}  // namespace veil::node
