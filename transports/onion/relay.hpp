#pragma once
/// The relay side of onion routing, run by every service node (the `onion-relay` plugin): opens
/// the layer addressed to this node, then either forwards the inner layer to the next node, or
/// (at the destination) hands the request to the local service it names and seals the answer
/// for the client. Served on the bus as transport::Inbound with route "onion". Loop-thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <uv.h>

#include "layer.hpp"
#include "veil/crypto/key_agreement.hpp"
#include "veil/sdk/bus.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/replay_window.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::onion {

/// The service name onion blobs travel under, between nodes and from clients to guards.
inline constexpr std::string_view kOnionService = "onion";

/// Budgets are per inbound link (the connection a blob came by: a client's, or a relay's for
/// the clients behind it), so one link cannot take every slot, and per source (the link's
/// address, as the node's port counts connection slots), so one host with many connections
/// cannot take more than its share of the relay-wide pools; long-polls delivered here are
/// counted apart, so parked subscribes cannot starve quick requests.
struct RelayOptions {
    std::uint64_t replay_window_ms = 10 * 60 * 1000;  ///< layers older or newer than this are refused
    std::size_t max_replay_entries = 1 << 20;         ///< when full the oldest entries go first
    /// Per forwarded request or local delivery: above the longest subscribe long-poll (60 s),
    /// so fast delivery works through onion paths.
    std::uint32_t hop_timeout_ms = 75'000;
    std::size_t max_in_flight = 4096;          ///< all links: above this new blobs are refused ("busy")
    std::size_t max_in_flight_per_link = 48;   ///< one link (below the port's 64 per connection)
    std::size_t max_long_polls = 1024;         ///< long-polls delivered here, all links
    std::size_t max_long_polls_per_link = 16;  ///< long-polls delivered here, one link
    std::size_t max_in_flight_per_source = 512;   ///< one source, all its links (1/8 of the pool)
    std::size_t max_long_polls_per_source = 128;  ///< one source, all its links (1/8 of the pool)
    std::size_t max_blob_bytes = kMaxBlobBytes;
};

/// True if a request for local `service` may wait long (a subscribe): counted apart.
using LongPollTest = std::function<bool(std::string_view service, const Bytes& body)>;

/// True if `node_id` is a node of the current manifest listed at `address`. A relay forwards
/// only to listed nodes, so it cannot be used to reach arbitrary hosts.
using NodeLookup = std::function<bool(const Key32& node_id, const std::string& address)>;

/// What one hop saw, for tests and the trace log of test builds: never a client address.
struct HopRecord {
    LayerKind kind{};
    std::string next_address;  ///< forward: the next hop
    std::string service;       ///< deliver: the local service
    std::uint64_t created_ms = 0;  ///< the time in this hop's slot (each hop has its own)
};

struct RelayStats {
    std::uint64_t forwarded = 0;
    std::uint64_t delivered = 0;
    std::uint64_t refused = 0;   ///< bad, replayed, unknown next hop, nested onion, or busy
    std::uint64_t busy = 0;      ///< of which: over a budget
    std::uint64_t failed = 0;    ///< next hop or local service failed
};

class Relay final {
public:
    /// `node_key`: X25519 with the node's onion key (layers are sealed to its public key).
    Relay(uv_loop_t* loop, sdk::Bus& bus, std::shared_ptr<const crypto::KeyAgreement> node_key, NodeLookup lookup,
          RelayOptions options);
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    /// Handles one blob that came by inbound `link` (transport::Inbound::link; 0: unknown);
    /// `done` runs once with the blob to send back (the destination's answer or a later relay's
    /// failure, each re-encrypted here; or this relay's own failure to reach its next hop, sealed
    /// by seal_failure) or an error with a short message for what this relay refused:
    /// "onion: bad layer", "onion: busy". A local delivery carries `link`
    /// on, so the local service can rate-limit it as it does direct requests.
    /// `source` is the link's opaque source key (transport::Inbound::source; empty: not counted).
    void handle(wire::ByteView blob, std::uint64_t link, const std::string& source,
                std::function<void(sdk::Result<wire::Bytes>)> done);

    /// Which deliveries are long-polls (optional: none without it).
    void set_long_poll_test(LongPollTest test) { long_poll_ = std::move(test); }

    /// Observes every opened layer (tests, trace logs). Optional.
    void set_observer(std::function<void(const HopRecord&)> observer) { observer_ = std::move(observer); }

    /// Observes every onion blob this relay receives or sends, on either link and in either
    /// direction (tests: what each hop sees). Optional.
    void set_frame_observer(std::function<void(wire::ByteView)> observer) { frames_ = std::move(observer); }

    [[nodiscard]] const RelayStats& stats() const { return stats_; }
    [[nodiscard]] std::size_t in_flight() const { return in_flight_; }

    /// What one link or source holds in flight.
    struct Load {
        std::size_t requests = 0;
        std::size_t long_polls = 0;
    };

private:
    using Done = std::function<void(sdk::Result<wire::Bytes>)>;
    struct ReturnSecrets;
    static void wipe_keys(OpenedLayer& layer);
    void forward(OpenedLayer layer, Done done);
    void deliver(OpenedLayer layer, std::uint64_t link, const std::string& source, Done done);
    Done counted(std::uint64_t link, const std::string& source, bool long_poll, Done done);
    void release(std::uint64_t link, const std::string& source, bool long_poll);

    sdk::Bus& bus_;
    std::shared_ptr<const crypto::KeyAgreement> node_key_;
    NodeLookup lookup_;
    RelayOptions options_;
    sdk::ReplayWindow replays_;  // layer ephemeral keys
    sdk::net::ClientPool next_hops_;
    std::function<void(const HopRecord&)> observer_;
    std::function<void(wire::ByteView)> frames_;
    RelayStats stats_;
    LongPollTest long_poll_;
    std::size_t in_flight_ = 0;
    std::size_t long_polls_ = 0;
    std::map<std::uint64_t, Load> links_;  // links with something in flight
    std::map<std::string, Load> sources_;  // sources with something in flight
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// Milliseconds on the monotonic clock (deadlines).
std::uint64_t monotonic_ms();

/// Milliseconds since the Unix epoch (layers carry wall-clock creation times).
std::uint64_t wall_clock_ms();

}  // namespace veil::onion
