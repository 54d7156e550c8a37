#pragma once
/// The client side of onion routing: carries a transport::Request through a path of three relays
/// to its destination node and returns the destination's answer. Keeps two paths ready, strikes
/// nodes that fail and retries on a rebuilt path with the same request bytes (storage requests
/// are idempotent by message hash, so a retry never stores twice). Loop-thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "path_bias.hpp"
#include "path_builder.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/result.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::onion {

/// A node of the manifest as the onion client needs it.
struct NodeInfo {
    Key32 ed25519{};
    Key32 x25519{};
    std::string address;  ///< host:port
    std::uint64_t swarm = 0;
};

struct OnionClientOptions {
    std::size_t hops = 3;
    std::size_t attempts = 3;       ///< paths tried per request
    std::uint64_t retry_reserve_ms = 2'000;  ///< deadline kept back for each later attempt
    std::size_t ready_paths = 2;    ///< paths kept built
    std::uint64_t guard_lifetime_ms = 7ull * 24 * 3600 * 1000;
    std::uint64_t strike_ms = 10ull * 60 * 1000;
    std::size_t max_blob_bytes = kMaxBlobBytes;
    std::uint64_t connect_timeout_ms = 5'000;
    PathBias::Options path_bias;  ///< when unverifiable answers and timeouts blame the guard
};

struct OnionClientStats {
    std::uint64_t requests = 0;
    std::uint64_t attempts = 0;   ///< paths tried (requests + retries)
    std::uint64_t failures = 0;   ///< requests that failed after every attempt
};

class OnionClient final {
public:
    using Done = std::function<void(sdk::Result<sdk::transport::Response>)>;

    OnionClient(uv_loop_t* loop, OnionClientOptions options);
    ~OnionClient();
    OnionClient(const OnionClient&) = delete;
    OnionClient& operator=(const OnionClient&) = delete;

    /// Replaces the node set (a newly accepted manifest); drops paths through departed nodes.
    void set_nodes(std::vector<NodeInfo> nodes);
    /// True once the node set allows a path.
    [[nodiscard]] bool ready() const { return !nodes_.empty(); }

    /// Sends `request` to request.to (named by its Ed25519 key hex, which must be in the node
    /// set). `done` runs once on the loop thread: the destination's Response, or unreachable /
    /// timeout / bad_input with a message free of addresses.
    void send(const sdk::transport::Request& request, Done done);

    /// Sticky guard persistence (kept across restarts by the plugin).
    [[nodiscard]] std::optional<PathBuilder::GuardState> guard() const { return paths_.guard(); }
    void restore_guard(PathBuilder::GuardState state) { paths_.restore_guard(state); }

    [[nodiscard]] const OnionClientStats& stats() const { return stats_; }
    /// True while the client avoids `node_id` (blamed for a failure it could prove, or a guard
    /// blamed by path-bias accounting).
    [[nodiscard]] bool struck(const Key32& node_id) const;

private:
    struct Attempt;
    void try_path(std::shared_ptr<Attempt> attempt);
    std::optional<Path> take_path(const Key32& destination, bool public_content);

    OnionClientOptions options_;
    PathBuilder paths_;
    PathBias bias_;
    std::vector<Path> ready_;
    std::map<Key32, NodeInfo> nodes_;  // by Ed25519 key
    sdk::net::ClientPool guards_;
    OnionClientStats stats_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace veil::onion
