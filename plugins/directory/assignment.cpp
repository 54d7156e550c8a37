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

// Swarm ids ordered by size (ascending or descending), lowest id first on ties.
std::vector<SwarmId> by_size(const SwarmMap& s, bool descending) {
    std::vector<SwarmId> ids;
    for (const auto& [id, m] : s) ids.push_back(id);
    std::stable_sort(ids.begin(), ids.end(), [&s, descending](SwarmId a, SwarmId b) {
        return descending ? s.at(a).size() > s.at(b).size() : s.at(a).size() < s.at(b).size();
    });
    return ids;
}

// Moves the first element of `from` for which `ok` holds to the end of `to`; false if none.
template <typename Ok>
bool move_first(std::vector<PublicKey>& from, std::vector<PublicKey>& to, Ok ok) {
    auto it = std::find_if(from.begin(), from.end(), ok);
    if (it == from.end()) return false;
    to.push_back(*it);
    from.erase(it);
    return true;
}

// The same, scanning `from` from its end.
template <typename Ok>
bool move_last(std::vector<PublicKey>& from, std::vector<PublicKey>& to, Ok ok) {
    auto it = std::find_if(from.rbegin(), from.rend(), ok);
    if (it == from.rend()) return false;
    to.push_back(*it);
    from.erase(std::next(it).base());
    return true;
}

}  // namespace

SwarmAssigner::SwarmAssigner(AssignmentConfig config) : config_(config) {
    config_.target_swarm_size = std::max<std::size_t>(1, config_.target_swarm_size);
    config_.min_swarm_size = std::clamp<std::size_t>(config_.min_swarm_size, 1, config_.target_swarm_size);
}

void SwarmAssigner::add_node(const PublicKey& node, std::string block) {
    if (!nodes_.try_emplace(node, kInvalidSwarm).second) return;
    if (!block.empty()) blocks_[node] = std::move(block);
}

void SwarmAssigner::keep_node(const PublicKey& node, SwarmId swarm, std::string block) {
    nodes_[node] = swarm;
    if (block.empty()) blocks_.erase(node);
    else blocks_[node] = std::move(block);
}

void SwarmAssigner::remove_node(const PublicKey& node) {
    nodes_.erase(node);
    blocks_.erase(node);
}

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

bool SwarmAssigner::fits(const std::vector<PublicKey>& members, const PublicKey& node) const {
    auto block = blocks_.find(node);
    if (block == blocks_.end()) return true;
    return std::none_of(members.begin(), members.end(), [&](const PublicKey& m) {
        auto other = blocks_.find(m);
        return m != node && other != blocks_.end() && other->second == block->second;
    });
}

std::optional<SwarmId> SwarmAssigner::smallest_fitting(const SwarmMap& s, const PublicKey& node) const {
    for (SwarmId id : by_size(s, false))
        if (fits(s.at(id), node)) return id;
    return std::nullopt;
}

bool SwarmAssigner::separate(SwarmMap& s, std::vector<PublicKey>& spares) const {
    bool any = false;
    for (auto& swarm : s) {
        const SwarmId id = swarm.first;  // (clang: no structured bindings in lambda captures)
        auto& members = swarm.second;
        std::vector<PublicKey> kept;
        for (const auto& key : members) {
            bool elsewhere = std::any_of(s.begin(), s.end(), [&](const auto& other) {
                return other.first != id && fits(other.second, key);
            });
            if (!fits(kept, key) && elsewhere) spares.push_back(key), any = true;
            else kept.push_back(key);
        }
        members = std::move(kept);
    }
    return any;
}

void SwarmAssigner::place(SwarmMap& s, std::vector<PublicKey>& spares) const {
    const std::size_t k = config_.target_swarm_size;
    // 1. Fill swarms below K, smallest first, each with the first spare that fits it.
    for (bool filled = true; filled && !spares.empty();) {
        filled = false;
        for (SwarmId id : by_size(s, false)) {
            if (s[id].size() >= k) break;
            filled = move_first(spares, s[id], [&](const PublicKey& n) { return fits(s[id], n); });
            if (filled) break;
        }
    }
    // 2. New swarms from K spares of distinct blocks (from any spares when there is no swarm).
    while (!spares.empty()) {
        std::vector<PublicKey> fresh;
        for (const auto& n : spares)
            if (fresh.size() < k && fits(fresh, n)) fresh.push_back(n);
        bool first = s.empty();
        if (fresh.size() < k && !first) break;
        for (const auto& n : fresh) std::erase(spares, n);
        while (fresh.size() < k && !spares.empty()) move_first(spares, fresh, [](const PublicKey&) { return true; });
        s[new_swarm_id(s)] = std::move(fresh);
    }
    // 3. Leftover spares join the smallest swarm they fit in (the smallest if none).
    for (const auto& n : spares) s[smallest_fitting(s, n).value_or(smallest(s))].push_back(n);
    spares.clear();
    // 4. Enough surplus nodes form a new swarm, taken from the largest swarms, of distinct blocks.
    auto surplus = [&s, k] {
        std::size_t n = 0;
        for (const auto& [id, m] : s) n += m.size() > k ? m.size() - k : 0;
        return n;
    };
    while (surplus() >= k) {
        std::vector<PublicKey> fresh;
        std::vector<SwarmId> origin;
        while (fresh.size() < k) {
            bool taken = false;
            for (SwarmId id : by_size(s, true)) {
                if (s[id].size() <= k) break;
                taken = move_last(s[id], fresh, [&](const PublicKey& n) { return fits(fresh, n); });
                if (taken) {
                    origin.push_back(id);
                    break;
                }
            }
            if (!taken) break;
        }
        if (fresh.size() < k) {  // no K distinct blocks among the surplus: they stay
            for (std::size_t i = 0; i < fresh.size(); ++i) s[origin[i]].push_back(fresh[i]);
            break;
        }
        s[new_swarm_id(s)] = std::move(fresh);
    }
    // 5. Swarms too small take nodes from the largest while it stays larger.
    for (bool moved = true; moved && s.size() > 1;) {
        SwarmId small = smallest(s);
        SwarmId big = largest(s);
        moved = s[small].size() < config_.min_swarm_size && s[big].size() > s[small].size() + 1 &&
                move_last(s[big], s[small], [&](const PublicKey& n) { return fits(s[small], n); });
    }
}

bool SwarmAssigner::rebalance() {
    const auto before = nodes_;
    SwarmMap s = swarms();
    std::vector<PublicKey> spares;
    for (const auto& [key, swarm] : nodes_)
        if (swarm == kInvalidSwarm) spares.push_back(key);
    separate(s, spares);
    place(s, spares);
    // New swarms may have made room for members that had none before.
    if (separate(s, spares)) place(s, spares);

    for (auto& [id, members] : s) {
        std::sort(members.begin(), members.end());
        for (const auto& key : members) nodes_[key] = id;
    }
    return nodes_ != before;
}

}  // namespace veil::directory
