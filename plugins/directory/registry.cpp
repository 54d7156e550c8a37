#include "registry.hpp"

namespace veil::directory {

const char* to_string(RegisterResult r) {
    switch (r) {
        case RegisterResult::ok: return "ok";
        case RegisterResult::clock_out_of_window: return "descriptor timestamp outside the clock window";
        case RegisterResult::replayed: return "descriptor not newer than the last one";
        case RegisterResult::address_taken: return "address already registered by another node";
    }
    return "unknown";
}

Registry::Registry(RegistryConfig config) : config_(config), assigner_(config.assignment) {}

RegisterResult Registry::heartbeat(const NodeDescriptor& d, std::uint64_t now_ms) {
    std::uint64_t skew = d.timestamp_ms > now_ms ? d.timestamp_ms - now_ms : now_ms - d.timestamp_ms;
    if (skew > config_.clock_window_ms) return RegisterResult::clock_out_of_window;
    auto it = nodes_.find(d.ed25519);
    if (it != nodes_.end() && d.timestamp_ms <= it->second.timestamp_ms) return RegisterResult::replayed;
    for (const auto& [key, other] : nodes_)
        if (key != d.ed25519 && other.host == d.host && other.port == d.port) return RegisterResult::address_taken;
    nodes_[d.ed25519] = d;
    assigner_.add_node(d.ed25519);
    return RegisterResult::ok;
}

void Registry::remove(const PublicKey& ed25519) {
    if (nodes_.erase(ed25519)) assigner_.remove_node(ed25519);
}

bool Registry::tick(std::uint64_t now_ms) {
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (it->second.timestamp_ms + config_.heartbeat_timeout_ms < now_ms) {
            assigner_.remove_node(it->first);
            it = nodes_.erase(it);
        } else {
            ++it;
        }
    }
    assigner_.rebalance();
    std::uint64_t before = last_ ? last_->version : 0;
    return manifest(now_ms).version != before;
}

Manifest Registry::manifest(std::uint64_t now_ms) {
    Manifest m;
    for (const auto& [key, d] : nodes_) {
        SwarmId swarm = assigner_.swarm_of(key);
        if (swarm == kInvalidSwarm) continue;  // not assigned until the next tick
        m.nodes.push_back(NodeEntry{d.ed25519, d.x25519, d.host, d.port, swarm});
    }
    if (last_ && last_->nodes == m.nodes) return *last_;
    if (!last_ && m.nodes.empty()) return m;  // version 0: nothing worth signing yet
    m.version = last_ ? last_->version + 1 : 1;
    m.issued_ms = now_ms;
    last_ = m;
    return m;
}

}  // namespace veil::directory
