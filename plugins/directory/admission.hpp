#pragma once
/// Admission: which registrations the authority lets into its view (docs/admission.md).
/// - Address policy: only numeric, globally routable addresses, unless the network is a test
///   network (then loopback and private ranges too). Host names are refused: relays connect by
///   number, and a name could resolve elsewhere after the check.
/// - Limits of proven nodes per address (IPv4 address, IPv6 /64) and per block (/24, /48). New
///   registrations wait in one queue served fairly: the block with the fewest checks under way
///   first (at most max_checks_per_block each), then the address probed least recently, then the
///   oldest; so one block's unanswering registrations never starve another block, and one
///   address's never starve another address of the same block.
/// - A descriptor older than the one held for its key changes nothing (no replayed eviction).
/// - A proof of reachability and key: the authority reaches the node at the address it registers
///   and the node signs a fresh challenge there (proto/admission.hpp); only then does the
///   registration reach the Registry. The proof is re-checked on a schedule; a node that stops
///   answering is dropped, and an address that failed is not probed again for a while.
/// Admission is loop-thread logic driven by the caller's clock; the probe itself is injected
/// (ChallengeProber in production, a fake in unit tests).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "veil/proto/manifest.hpp"
#include "veil/sdk/net.hpp"

namespace veil::directory {

/// Which kind of address a host is; only `global` is admissible on a real network.
enum class AddressKind : std::uint8_t {
    global = 1,
    not_numeric,  ///< a host name (refused everywhere)
    loopback,
    private_range,  ///< RFC 1918, 100.64/10 (CGNAT), fc00::/7
    link_local,
    multicast,
    unspecified,
    reserved,  ///< 0/8, 240/4, broadcast, documentation, benchmarking, ...
};

[[nodiscard]] const char* to_string(AddressKind k);
[[nodiscard]] AddressKind classify_address(const std::string& host);
/// Whether the authority admits an address of this kind (test networks admit all numeric ones).
[[nodiscard]] bool admissible(AddressKind k, bool test_network);
/// The key sdk::net::Reply::source() gives a connection from this numeric host (its IPv4 address
/// or the /64 of its IPv6 address, as raw bytes; IPv4-mapped as IPv4); empty for a host name.
[[nodiscard]] std::string source_key(const std::string& host);
/// Whether a registration of `host` may come from a connection of `source` (Reply::source()):
/// from the address it registers, or, on a test network only, from loopback (testnet links
/// forward from 127.0.0.1).
[[nodiscard]] bool registered_from(const std::string& host, std::string_view source, bool test_network);
/// The block a numeric address belongs to: "a.b.c.0/24" or the first 48 bits "/48"; the host
/// itself when it is not numeric. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4.
[[nodiscard]] std::string address_block(const std::string& host);
/// What one machine holds: the IPv4 address "a.b.c.d/32" or the IPv6 "/64" (mapped as above).
[[nodiscard]] std::string address_owner(const std::string& host);

struct AdmissionConfig {
    bool test_network = false;               ///< network.toml test_network
    std::uint16_t max_nodes_per_block = 4;   ///< network.toml max_nodes_per_block; 0: no limit
    std::uint16_t max_nodes_per_address = 2;  ///< proven nodes per IPv4 address or IPv6 /64; 0: no limit
    std::uint16_t max_checks_per_block = 4;   ///< registrations under check per block, and waiting per address; 0: no limit
    std::uint64_t recheck_ms = 10 * 60 * 1000;  ///< how often a listed node proves itself again
    std::uint64_t retry_after_ms = 60 * 1000;   ///< a failed address is not probed again before this
    std::uint64_t forget_after_ms = 60 * 1000;  ///< a node silent this long leaves the books
    std::size_t max_probes_in_flight = 64;      ///< bounds the connections registrations can cause
    std::size_t max_waiting = 1024;             ///< registrations waiting for a probe slot, in all
    std::size_t max_waiting_per_block = 64;     ///< of those, per /24 or /48; 0: no limit
    /// Re-checks of listed nodes in flight at once: the rest of max_probes_in_flight stays for
    /// new registrations, however many listed nodes are due (or hang on their re-check).
    std::size_t max_rechecks_in_flight = 32;
};

/// What happens to one registration.
enum class AdmitStep : std::uint8_t {
    listed = 1,  ///< proven: pass it to the registry
    checking,    ///< the challenge is under way; the node's next heartbeat may be listed
    refused,     ///< see the reason
};

struct AdmitDecision {
    AdmitStep step = AdmitStep::refused;
    std::string reason;  ///< refused only
};

class Admission final {
public:
    /// Reaches the node at d.host:d.port and calls back exactly once, true when it proved d.ed25519.
    using Probe = std::function<void(const proto::NodeDescriptor& d, std::function<void(bool)> done)>;
    /// A node proved itself for the first time: its descriptor enters the registry.
    using Admitted = std::function<void(const proto::NodeDescriptor&)>;
    /// A listed node failed a re-check, moved or went silent: it leaves the registry.
    using Dropped = std::function<void(const proto::PublicKey&)>;

    Admission(AdmissionConfig config, Probe probe, Admitted admitted, Dropped dropped,
              std::function<std::uint64_t()> clock);
    ~Admission();
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

    /// A verified registration or heartbeat, received on a connection of `source`
    /// (sdk::net::Reply::source()): refused unless registered_from(d.host, source).
    AdmitDecision offer(const proto::NodeDescriptor& d, std::string_view source);
    /// Starts due re-checks and forgets silent nodes.
    void tick();

    [[nodiscard]] std::size_t listed_count() const;
    [[nodiscard]] std::size_t probes_in_flight() const { return in_flight_; }

private:
    struct Entry {
        proto::NodeDescriptor descriptor;
        std::string block;
        std::string owner;  ///< address_owner(host)
        bool listed = false;
        bool probing = false;
        bool waiting = false;     ///< queued for a probe slot
        bool recheck = false;     ///< its probe in flight is a re-check
        std::uint64_t order = 0;  ///< when it started waiting (a counter)
        std::uint64_t checked_ms = 0;
        std::uint64_t seen_ms = 0;
    };
    struct Failure {
        std::string address;
        std::uint64_t until_ms = 0;
    };
    void start_probe(const proto::PublicKey& key);
    /// Starts the waiting registrations' probes while slots are free, fairest first.
    void dispatch();
    /// Why a new registration may not wait for a probe (its address or block holds its share of
    /// the queue, or the queue is full of others' no more represented), empty when it may; makes
    /// room by evicting from the most represented block.
    [[nodiscard]] std::string make_room(const Entry& e);
    void on_probe(const proto::PublicKey& key, const std::string& address, bool ok);
    void forget(std::map<proto::PublicKey, Entry>::iterator it);
    /// Why `e` may not be listed now (a limit of proven nodes is reached), empty when it may.
    [[nodiscard]] std::string over_limit(const proto::PublicKey& key, const Entry& e) const;

    AdmissionConfig config_;
    Probe probe_;
    Admitted admitted_;
    Dropped dropped_;
    std::function<std::uint64_t()> clock_;
    std::map<proto::PublicKey, Entry> nodes_;
    std::map<proto::PublicKey, Failure> failed_;
    std::map<std::string, std::uint64_t> owner_probed_ms_;  ///< owner -> last probe start, kept retry_after_ms
    std::uint64_t next_order_ = 1;
    std::size_t in_flight_ = 0;
    std::size_t rechecks_in_flight_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The production probe: a fresh connection to the registered address, a challenge with the
/// authority's key and a fresh random nonce, and the node's signature checked against the
/// registered key and address. Loop-thread only.
class ChallengeProber final {
public:
    ChallengeProber(uv_loop_t* loop, proto::PublicKey authority_key, std::uint32_t timeout_ms);
    ~ChallengeProber();
    ChallengeProber(const ChallengeProber&) = delete;
    ChallengeProber& operator=(const ChallengeProber&) = delete;
    /// Admission::Probe.
    void probe(const proto::NodeDescriptor& d, std::function<void(bool)> done);
    /// Closes the connections of finished probes (never from inside their callbacks).
    void collect();

private:
    uv_loop_t* loop_;
    proto::PublicKey authority_key_;
    std::uint32_t timeout_ms_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<sdk::net::Client>> clients_;
    std::vector<std::uint64_t> finished_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace veil::directory
