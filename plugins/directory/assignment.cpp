#include "assignment.hpp"

#include <algorithm>

namespace veil::directory {

namespace {

using SwarmMap = std::map<SwarmId, std::vector<PublicKey>>;

// The smallest swarm (lowest id on ties).
SwarmId smallest(const SwarmMap& s) {
    auto it = std::min_element(s.begin(), s.end(),
                               [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    return it->first;
}

// The largest swarm (lowest id on ties).
SwarmId largest(const SwarmMap& s) {
    auto it = std::max_element(s.begin(), s.end(),
                               [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    return it->first;
}

}  // namespace

SwarmAssigner::SwarmAssigner(AssignmentConfig config) : config_(config) {
    config_.target_swarm_size = std::max<std::size_t>(1, config_.target_swarm_size);
    config_.min_swarm_size = std::clamp<std::size_t>(config_.min_swarm_size, 1, config_.target_swarm_size);
}

void SwarmAssigner::add_node(const PublicKey& node) { nodes_.try_emplace(node, kInvalidSwarm); }

void SwarmAssigner::keep_node(const PublicKey& node, SwarmId swarm) { nodes_[node] = swarm; }

void SwarmAssigner::remove_node(const PublicKey& node) { nodes_.erase(node); }

SwarmId SwarmAssigner::swarm_of(const PublicKey& node) const {
    auto it = nodes_.find(node);
    return it == nodes_.end() ? kInvalidSwarm : it->second;
}

SwarmMap SwarmAssigner::swarms() const {
    SwarmMap out;
    for (const auto& [key, swarm] : nodes_)
        if (swarm != kInvalidSwarm) out[swarm].push_back(key);
    return out;
}

SwarmId SwarmAssigner::new_swarm_id(const SwarmMap& swarms) const {
    if (swarms.empty()) return 0;
    // Widest gap going up from each id to the next (wrapping); its midpoint is the new id.
    SwarmId best_start = 0;
    std::uint64_t best_gap = 0;
    for (auto it = swarms.begin(); it != swarms.end(); ++it) {
        auto next = std::next(it) == swarms.end() ? swarms.begin() : std::next(it);
        std::uint64_t gap = next->first - it->first;  // 0 means the whole ring (one swarm)
        bool whole = swarms.size() == 1;
        if (whole || gap > best_gap) {
            best_gap = whole ? 0 : gap;
            best_start = it->first;
            if (whole) return best_start + (std::uint64_t{1} << 63);
        }
    }
    SwarmId id = best_start + best_gap / 2;
    return id == kInvalidSwarm ? id - 1 : id;
}

bool SwarmAssigner::rebalance() {
    const auto before = nodes_;
    const std::size_t k = config_.target_swarm_size;
    SwarmMap s = swarms();
    std::vector<PublicKey> spares;
    for (const auto& [key, swarm] : nodes_)
        if (swarm == kInvalidSwarm) spares.push_back(key);
    auto take_spare = [&spares] {
        PublicKey key = spares.front();
        spares.erase(spares.begin());
        return key;
    };

    // 1. Fill swarms below K.
    while (!spares.empty() && !s.empty() && s[smallest(s)].size() < k) s[smallest(s)].push_back(take_spare());
    // 2. New swarms from spares.
    while (spares.size() >= k || (s.empty() && !spares.empty())) {
        SwarmId id = new_swarm_id(s);
        auto& members = s[id];
        while (members.size() < k && !spares.empty()) members.push_back(take_spare());
    }
    // 3. Leftover spares join the smallest swarms.
    while (!spares.empty()) s[smallest(s)].push_back(take_spare());
    // 4. Enough surplus nodes form a new swarm.
    auto surplus = [&s, k] {
        std::size_t n = 0;
        for (const auto& [id, m] : s) n += m.size() > k ? m.size() - k : 0;
        return n;
    };
    while (surplus() >= k) {
        SwarmId id = new_swarm_id(s);
        std::vector<PublicKey> fresh;
        while (fresh.size() < k) {
            auto& from = s[largest(s)];
            fresh.push_back(from.back());
            from.pop_back();
        }
        s[id] = std::move(fresh);
    }
    // 5. Swarms too small take nodes from the largest while it stays larger.
    for (bool moved = true; moved && s.size() > 1;) {
        moved = false;
        SwarmId small = smallest(s);
        SwarmId big = largest(s);
        if (s[small].size() < config_.min_swarm_size && s[big].size() > s[small].size() + 1) {
            s[small].push_back(s[big].back());
            s[big].pop_back();
            moved = true;
        }
    }

    for (auto& [id, members] : s) {
        std::sort(members.begin(), members.end());
        for (const auto& key : members) nodes_[key] = id;
    }
    return nodes_ != before;
}

}  // namespace veil::directory
