#pragma once
/// The attachment store on a service node: serves transport::Inbound route "attachments" (so
/// the onion exit and the direct transport deliver to it exactly like storage RPCs), keeps blobs
/// of the swarm that owns their id, pushes each newly completed blob to the other members, and
/// sweeps expired ones. Membership comes from the service node on the bus: its identity
/// (sdk::node::GetNodeIdentity) and the verified manifests it accepts (sdk::network::
/// ManifestUpdated); list requests to peers are signed by the node (sdk::node::Sign), so this
/// plugin never reads the node's key.
/// Loop thread only; disk work runs on the worker pool.

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "blob_store.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/rate_limiter.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::attachment_store {

struct RuntimeSettings {
    StoreLimits limits;
    std::uint64_t sweep_ms = 60'000;
    std::uint64_t catch_up_ms = 60'000;
    std::uint64_t clock_window_ms = 60'000;
    /// Chunk bytes one connection (or relay link) may upload: a sustained rate and a burst.
    double upload_bytes_per_second = 32 << 20;
    double upload_byte_burst = 64 << 20;
};

class StoreRuntime final {
public:
    StoreRuntime(sdk::Context& ctx, RuntimeSettings settings);
    ~StoreRuntime();
    StoreRuntime(const StoreRuntime&) = delete;
    StoreRuntime& operator=(const StoreRuntime&) = delete;

    void start();
    void stop();

private:
    using Answer = sdk::Responder<sdk::transport::Response>;
    void handle(const sdk::transport::Inbound& in, Answer answer);
    /// Charges `bytes` of upload to the link; false when it is over its rate.
    bool admit_upload(std::uint64_t link, std::size_t bytes);
    void on_manifest(std::shared_ptr<const proto::Manifest> manifest);
    /// Starts a catch-up when this node joined a swarm (or just learnt which one it is in).
    void on_membership();
    /// Empty when this node may hold `id`; otherwise the status to answer.
    std::optional<Response> check_owner(const BlobId& id) const;
    void replicate(const PutRequest& done, std::uint64_t expiry_ms);
    void push_chunk(std::shared_ptr<struct Push> push);
    void answer_list(const ListRequest& q, Answer answer);
    void start_catch_up();
    void catch_up_peer(std::shared_ptr<struct CatchUp> c);
    void catch_up_list(std::shared_ptr<struct CatchUp> c);
    void catch_up_page(std::shared_ptr<struct CatchUp> c, const ListRequest& q);
    void catch_up_fetch(std::shared_ptr<struct CatchUp> c);
    /// Sends one store request to a peer node over the node-to-node connection.
    void to_peer(const std::string& address, const Request& q, Method method, std::function<void(std::optional<Response>)> done);

    sdk::Context& ctx_;
    RuntimeSettings settings_;
    std::shared_ptr<BlobStore> store_;
    std::shared_ptr<const proto::Manifest> manifest_;  // verified by the service node
    std::optional<proto::PublicKey> own_key_;          // the node's Ed25519 key
    bool catching_up_ = false;
    std::uint64_t last_swarm_ = ~0ull;
    sdk::net::ClientPool peers_;
    std::map<std::uint64_t, sdk::RateLimiter> upload_rates_;  // by link; loop thread
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace veil::attachment_store
