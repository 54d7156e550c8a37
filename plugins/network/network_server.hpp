#pragma once
/// Serves the network plugin's bus contracts: GetManifest (veil/sdk/network.hpp) and the swarm
/// calls (veil/sdk/swarm.hpp, carried out by SwarmClient). Holds the client's one wait for the
/// first manifest: a call that arrives before it waits (up to its own deadline) while the
/// manifest source asks nodes again every second. Loop-thread only; lives within the plugin's
/// start() and stop().

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "manifest_source.hpp"
#include "swarm_client.hpp"
#include "veil/sdk/context.hpp"

namespace veil::network {

class NetworkServer final {
public:
    /// Registers the servers on `ctx` (they live as long as ctx). `source` outlives this.
    NetworkServer(sdk::Context& ctx, ManifestSource& source);
    ~NetworkServer();
    NetworkServer(const NetworkServer&) = delete;
    NetworkServer& operator=(const NetworkServer&) = delete;

    /// Tells the server a manifest was accepted (by `source`): waiting calls go on.
    void manifest_accepted(std::shared_ptr<const proto::Manifest> manifest);

    /// Runs `then(true)` once a manifest is held (at once if it is), or `then(false)` after
    /// `wait_ms` without one.
    void when_manifest(std::uint64_t wait_ms, std::function<void(bool)> then);

    /// The current manifest (nullptr before the first).
    [[nodiscard]] const std::shared_ptr<const proto::Manifest>& manifest() const { return manifest_; }
    /// The manifest source (its envelope and verifier, for `network status`).
    [[nodiscard]] const ManifestSource& source() const { return source_; }
    [[nodiscard]] SwarmClient& swarms() { return swarms_; }

private:
    struct Waiter {
        sdk::TimerId timer = 0;
        std::function<void(bool)> then;
    };
    void serve();
    void expire(std::uint64_t id);

    sdk::Context& ctx_;
    ManifestSource& source_;
    std::shared_ptr<const proto::Manifest> manifest_;
    SwarmClient swarms_;
    std::map<std::uint64_t, Waiter> waiters_;
    std::uint64_t next_waiter_ = 1;
    sdk::TimerId refresher_ = 0;  ///< asks nodes every second while anyone waits (0: off)
};

}  // namespace veil::network
