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

Registry::Registry(RegistryConfig config) : config_(config) {}

RegisterResult Registry::heartbeat(const NodeDescriptor& d, std::uint64_t now_ms) {
    std::uint64_t skew = d.timestamp_ms > now_ms ? d.timestamp_ms - now_ms : now_ms - d.timestamp_ms;
    if (skew > config_.clock_window_ms) return RegisterResult::clock_out_of_window;
    auto it = nodes_.find(d.ed25519);
    if (it != nodes_.end() && d.timestamp_ms <= it->second.timestamp_ms) return RegisterResult::replayed;
    for (const auto& [key, other] : nodes_)
        if (key != d.ed25519 && other.host == d.host && other.port == d.port) return RegisterResult::address_taken;
    nodes_[d.ed25519] = d;
    return RegisterResult::ok;
}

void Registry::remove(const PublicKey& ed25519) { nodes_.erase(ed25519); }

void Registry::tick(std::uint64_t now_ms) {
    std::erase_if(nodes_, [&](const auto& kv) { return kv.second.timestamp_ms + config_.heartbeat_timeout_ms < now_ms; });
}

std::vector<VotedNode> Registry::view() const {
    std::vector<VotedNode> out;
    for (const auto& [key, d] : nodes_) out.push_back(VotedNode{d.ed25519, d.x25519, d.host, d.port});
    return out;
}

}  // namespace veil::directory
