#pragma once
/// The service node on the kernel: the node's port (framed TCP; every frame a service request
/// routed on the bus by its service name), the storage RPC (transport::Inbound route "storage",
/// so requests through the onion exit or the direct transport reach the same handlers), the
/// peer requests of its swarm (route "peer"), replication, catch-up, the sweeper, registration
/// with the directory and manifest polling. For co-located plugins it publishes the manifests it
/// accepts and serves the node-identity requests of veil/sdk/node.hpp.
/// Loop thread only; SQL runs on the worker pool through Context::run_blocking.

#include <map>
#include <memory>

#include "catch_up.hpp"
#include "node_metrics.hpp"
#include "parked.hpp"
#include "veil/crypto/key_agreement.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/metrics_http.hpp"
#include "veil/sdk/transport.hpp"
#include "veil/sdk/net.hpp"

namespace veil::node {

// The node serves the node RPC of the SDK's protocol; its names are used unqualified here.
using namespace veil::proto::node;

/// Settings read from the plugin's config table.
struct RuntimeSettings {
    std::string listen = "127.0.0.1:7800";
    std::string public_host;  ///< advertised host; empty: the listen host
    std::vector<std::string> directories{"127.0.0.1:7700"};  ///< every authority's host:port
    std::vector<proto::PublicKey> authority_keys;
    std::size_t authority_threshold = 0;  // 0: more than half of authority_keys
    std::filesystem::path key_file;
    std::vector<std::string> sign_domains;  ///< tags co-located plugins may have signed (sdk::node::Sign)
    std::filesystem::path db_file;
    std::filesystem::path db_key_file;  ///< empty: database not encrypted
    bool synchronous_full = false;
    std::uint64_t heartbeat_ms = 3000;
    std::uint64_t manifest_poll_ms = 1000;
    std::uint64_t sweep_ms = 10000;
    std::uint64_t catch_up_ms = 30000;
    CatchUpBounds catch_up_bounds;  ///< what one peer's turn of a round may cost
    Limits limits;
    /// Tests only: answer as a hostile member would. "overprice": a stranger's store is asked
    /// 2^60 hashes of work; "drop": every store is answered ok and not kept; "endless_pages":
    /// catch-up requests of peers get 2^32 - 1 states a bucket, pages of new hashes that always
    /// promise more, and empty fetches; "stale_device_lists": device-list reads are answered with
    /// every list clients stored but the newest (a member rolling a revocation back).
    std::string test_misbehave;
    /// host:port of the metrics endpoint (docs/service-node.md §Metrics); empty: off.
    std::string metrics_listen;
};

/// Key, store and handlers, shared with worker-pool jobs (which may outlive a stop()).
struct NodeCore {
    NodeCore(crypto::SigningKeyPair k, const StoreOptions& so, const Limits& limits, proto::ManifestVerifier v)
        : key(std::move(k)), store(so, limits), service(key, store, limits, std::move(v)) {}
    crypto::SigningKeyPair key;
    MessageStore store;
    StorageService service;
};

/// One running service node.
class NodeRuntime final {
public:
    NodeRuntime(sdk::Context& ctx, RuntimeSettings settings);
    ~NodeRuntime();
    NodeRuntime(const NodeRuntime&) = delete;
    NodeRuntime& operator=(const NodeRuntime&) = delete;

    /// Opens the store, listens, starts the timers. Throws on failure (the plugin fails to start).
    void start();
    /// Closes the listener and the clients.
    void stop();

private:
    /// Sends the encoded response back to whoever asked (net frame or bus reply). Copyable.
    using Answer = std::function<void(Bytes)>;
    /// Subscribes parked on one (mailbox, namespace) at most: what one store re-runs.
    static constexpr std::size_t kParkedPerKey = 16;
    struct Parked {
        std::uint32_t id = 0;
        SubscribeRequest request;
        Answer answer;
        sdk::TimerId timer = 0;
        std::uint64_t yielding_link = 0;  ///< marked yielding on this connection (0: not)
        std::uint64_t held_link = 0;      ///< held (Server::hold) on this connection (0: not)
    };

    void on_frame(const Bytes& frame, sdk::net::Reply reply);
    /// The answer to request `body`, counted in flight until it goes out, then by method and status.
    Answer counted(const Bytes& body, sdk::Responder<sdk::transport::Response> responder);
    /// Listens for scrapes when metrics_listen is set.
    void serve_metrics();
    /// The text of one scrape: the node's families and those of the onion relay beside it.
    void collect_metrics(std::function<void(std::string)> done);
    void serve_node_contracts();
    /// Decodes and runs one node RPC; `from_peer`: it came as service "peer" (peer requests only).
    /// `link`: the connection of the node's port it came by (0: none), for parked subscribes.
    void on_request(const Bytes& body, bool from_peer, Answer answer, std::uint64_t link = 0);
    /// The answer a hostile member would give to `req` (RuntimeSettings::test_misbehave), if any.
    std::optional<Response> misbehave(const Request& req);
    /// test_misbehave = "stale_device_lists": serves device lists from before the newest.
    std::optional<Response> serve_stale_device_lists(const Request& req);
    bool allow(std::uint64_t connection);
    bool allow_peer_link(std::uint64_t link, std::size_t bytes);
    void to_peer(const proto::NodeEntry& peer, Bytes envelope, std::function<void(std::optional<Response>)> done);
    void finish(Method method, std::shared_ptr<Outcome> out, std::shared_ptr<Request> req, Answer answer,
                std::uint64_t link);
    void park(std::uint32_t id, SubscribeRequest q, Answer answer, std::uint64_t link);
    void wake(const Wake& key);
    void resume(std::uint64_t token, bool final_attempt);
    void replicate(std::vector<ReplicaOp> ops);
    void heartbeat();
    void poll_manifest();
    /// Logs once per version when the held manifest gets old, and once when it expired.
    void warn_if_old();
    void start_catch_up();
    sdk::net::Client& client_for(const proto::NodeEntry& peer);

    sdk::Context& ctx_;
    RuntimeSettings settings_;
    std::shared_ptr<NodeCore> core_;
    std::unique_ptr<sdk::net::Server> server_;
    std::shared_ptr<NodeCounters> counters_ = std::make_shared<NodeCounters>();  // shared with answers in flight
    std::unique_ptr<sdk::metrics::HttpEndpoint> metrics_;
    std::shared_ptr<const crypto::KeyAgreement> onion_key_;  // lent to the onion relay
    std::vector<std::unique_ptr<sdk::net::Client>> directories_;  ///< one per authority
    std::size_t next_directory_ = 0;                                 ///< polled for the manifest next
    std::uint64_t warned_old_version_ = 0;      ///< last version warned as getting old
    std::uint64_t warned_expired_version_ = 0;  ///< last version warned as expired
    std::map<std::string, std::unique_ptr<sdk::net::Client>> peers_;
    std::map<std::uint64_t, Parked> parked_;
    std::map<std::uint64_t, RateLimiter> limiters_;  // by net connection id
    std::map<std::uint64_t, PeerBudget> peer_links_;  // by net connection id, peer frames
    ParkedIndex parked_by_key_{kParkedPerKey};
    std::uint64_t next_token_ = 1;
    std::uint32_t next_peer_id_ = 1;
    std::uint16_t bound_port_ = 0;
    SwarmId last_swarm_ = proto::kInvalidSwarm;
    std::unique_ptr<CatchUpRound> catch_up_;
    std::vector<bool> warned_directory_;  ///< per authority: "unreachable" said once
    std::uint64_t endless_next_ = 0;  // test_misbehave = endless_pages: the hashes it makes up
    std::map<PublicKey, std::vector<Bytes>> stale_lists_;  // test_misbehave = stale_device_lists
};

}  // namespace veil::node
