#pragma once
/// The storage RPC handlers: the rules (swarm ownership, owner auth, replays, limits) around the
/// message store. Transport-free: the framed TCP listener and, later, onion routing both hand
/// decoded requests here. Thread-safe; handlers block on the store, so call them off the loop.

#include <atomic>
#include <map>
#include <memory>
#include <optional>

#include "veil/proto/manifest.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/proto/peer_rpc.hpp"
#include "manifest_history.hpp"
#include "store.hpp"

namespace veil::node {

// The node serves the node RPC of the SDK's protocol; its names are used unqualified here.
using namespace veil::proto::node;

/// Where a new message landed: the parked subscribes of this mailbox and namespace are re-run.
struct Wake {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    bool operator==(const Wake&) const = default;
};

/// What a handler produced.
struct Outcome {
    Outcome() = default;
    /// A plain answer with no side effects.
    Outcome(Response r) : response(std::move(r)) {}  // NOLINT: implicit on purpose

    Response response;
    /// Subscribe found nothing: the caller holds the request and calls resume_subscribe when a
    /// store lands in `notify` or when wait_ms has passed.
    bool park = false;
    /// Changes to pass to the other members of the swarm (replicate).
    std::vector<ReplicaOp> replicate;
    /// The mailbox and namespace that received a new message (to wake parked subscribes), if any.
    std::optional<Wake> notify;
};

/// Storage RPC handlers of one node.
class StorageService final {
public:
    StorageService(const crypto::SigningKeyPair& node_key, MessageStore& store, Limits limits,
                   proto::ManifestVerifier verifier, std::string version = "0.1.0");

    /// Verifies and installs a manifest envelope (only a higher version replaces the current).
    proto::ManifestCheck update_manifest(ByteView envelope, std::uint64_t now_ms);
    /// The current manifest envelope, empty before the first.
    [[nodiscard]] Bytes manifest_envelope() const;
    /// The current manifest, decoded and verified; null before the first. Never changes once
    /// shared (a newer one replaces the pointer).
    [[nodiscard]] std::shared_ptr<const proto::Manifest> manifest() const;
    [[nodiscard]] std::uint64_t manifest_version() const;
    /// This node's swarm per the manifest (kInvalidSwarm when not listed).
    [[nodiscard]] SwarmId own_swarm() const;
    /// The other members of this node's swarm.
    [[nodiscard]] std::vector<proto::NodeEntry> swarm_peers() const;
    /// True when the mailbox maps to this node's swarm.
    [[nodiscard]] bool owns(const PublicKey& mailbox) const;

    /// Handles one request. Peer requests (Method::peer) are answered here too.
    Outcome handle(const Request& request, std::uint64_t now_ms);
    /// Re-runs a parked subscribe (its auth was checked when it arrived).
    Outcome resume_subscribe(std::uint32_t id, const SubscribeRequest& q, std::uint64_t now_ms);

    /// Merges the ops of swarm member `from` (replication, or its catch-up replies): messages with
    /// their data (into a namespace only the owner writes, only with the owner's store auth), and
    /// deletions or lower expiries only with an owner proof that verifies and covers them (others
    /// are ignored). Each owner signature verified is charged to `from`'s verify budget; the
    /// batch stops at the first signature that does not verify or does not fit the budget.
    /// Returns a mailbox and namespace that received a new message, if any.
    std::optional<Wake> apply_replica(const std::vector<ReplicaOp>& ops, const PublicKey& from,
                                      std::uint64_t now_ms);
    /// Peer-envelope signatures verified so far (refusals before the check cost none).
    [[nodiscard]] std::uint64_t peer_signature_checks() const { return peer_signature_checks_.load(); }
    /// The runtime reports how many subscribes it holds parked (info shows it).
    void set_parked_subscribes(std::uint64_t n) { parked_subscribes_ = n; }
    /// Owner signatures (proofs, store auths) verified for what peers sent.
    [[nodiscard]] std::uint64_t replica_signature_checks() const { return replica_signature_checks_.load(); }

    [[nodiscard]] const Limits& limits() const { return limits_; }
    [[nodiscard]] MessageStore& store() { return store_; }

private:
    Outcome store(std::uint32_t id, const RequestBody& body, std::uint64_t now_ms);  // body holds a StoreRequest
    Outcome handle_peer(std::uint32_t id, const PeerRequest& q, std::uint64_t now_ms);
    /// The checks on a peer envelope's header, before it is decoded: ok, or why it is refused.
    Status admit_peer(ByteView envelope);
    /// Charges a member whose envelope verified: false when its budget is spent.
    bool charge_member(const PublicKey& member, std::size_t envelope_bytes, std::uint64_t now_ms);
    /// The states of `bucket` above `after`, in hash order, as one page within the page limits.
    BucketPage bucket_page(std::uint8_t bucket, const std::optional<Hash>& after, std::uint64_t now_ms);
    /// The encoded summary of this node's swarm states, from a copy at most summary_max_age_ms old.
    Bytes summary_bytes(std::uint64_t now_ms);
    /// Takes one owner-signature verification from the member's budget; false when it is spent.
    bool charge_verify(const PublicKey& member, std::uint64_t now_ms);
    std::optional<Response> redirect_if_foreign(std::uint32_t id, const PublicKey& mailbox) const;
    SwarmResponse swarm_response(SwarmId swarm) const;

    const crypto::SigningKeyPair& node_key_;
    MessageStore& store_;
    Limits limits_;
    std::string version_;
    ReplayGuard replay_;
    ReplayGuard peer_replay_;  // peer envelopes by signature
    std::atomic<std::uint64_t> peer_signature_checks_{0};
    std::atomic<std::uint64_t> parked_subscribes_{0};
    std::mutex budget_mutex_;
    std::map<PublicKey, PeerBudget> budgets_;  // by member key: bounded by the manifest
    std::map<PublicKey, RateLimiter> verify_budgets_;  // by member key, under budget_mutex_
    std::atomic<std::uint64_t> replica_signature_checks_{0};
    std::mutex summary_mutex_;  // guards the summary copy; held while one is computed
    Bytes summary_;
    std::uint64_t summary_ms_ = 0;
    std::uint64_t summary_version_ = 0;  // manifest version it was computed under
    mutable std::mutex mutex_;  // guards the manifest fields below
    proto::ManifestVerifier verifier_;
    std::shared_ptr<const proto::SignedManifest> manifest_;
    Bytes manifest_envelope_;
    ManifestHistory history_;  // for get_manifest answers: current, a diff, or the whole one
};

}  // namespace veil::node
