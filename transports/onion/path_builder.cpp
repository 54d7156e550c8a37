#include "path_builder.hpp"

#include "veil/crypto/random.hpp"

#include <sodium.h>

#include <algorithm>

namespace veil::onion {

std::string network_of(const std::string& address) {
    std::string host = address.substr(0, address.rfind(':'));
    if (std::count(host.begin(), host.end(), '.') == 3 &&
        host.find_first_not_of("0123456789.") == std::string::npos) {
        return host.substr(0, host.rfind('.'));
    }
    return host;
}

void PathBuilder::set_candidates(std::vector<Candidate> candidates) {
    candidates_ = std::move(candidates);
    if (guard_ && !find(guard_->node_id)) guard_.reset();
}

const Candidate* PathBuilder::find(const Key32& node_id) const {
    for (const auto& c : candidates_) {
        if (c.hop.node_id == node_id) return &c;
    }
    return nullptr;
}

bool PathBuilder::usable(const Candidate& c, std::uint64_t now_ms, const std::vector<Key32>& exclude) const {
    if (std::find(exclude.begin(), exclude.end(), c.hop.node_id) != exclude.end()) return false;
    auto it = struck_until_ms_.find(c.hop.node_id);
    return it == struck_until_ms_.end() || it->second <= now_ms;
}

bool PathBuilder::struck(const Key32& node_id, std::uint64_t now_ms) const {
    auto it = struck_until_ms_.find(node_id);
    return it != struck_until_ms_.end() && it->second > now_ms;
}

void PathBuilder::strike(const Key32& node_id, std::uint64_t now_ms) {
    struck_until_ms_[node_id] = now_ms + options_.strike_ms;
    if (guard_ && guard_->node_id == node_id) guard_.reset();
}

std::optional<Path> PathBuilder::build(std::uint64_t now_ms, const std::vector<Key32>& exclude) {
    if (guard_ && now_ms - guard_->chosen_ms >= options_.guard_lifetime_ms) guard_.reset();
    if (auto path = pick(now_ms, exclude, {})) return path;
    // E.g. every node on one /24.
    if (auto path = pick(now_ms, exclude, {.distinct_nets = false})) return path;
    // E.g. three swarms and the destination's swarm down but for the destination: live relays
    // sharing a swarm beat a path through a node known to be down.
    if (auto path = pick(now_ms, exclude, {.distinct_nets = false, .distinct_swarms = false})) return path;
    // Too many strikes to build a path: struck nodes are better than no path.
    return pick(now_ms, exclude, {.distinct_nets = false, .distinct_swarms = false, .avoid_struck = false});
}

std::optional<Path> PathBuilder::pick(std::uint64_t now_ms, const std::vector<Key32>& exclude, Rules rules) {
    std::vector<const Candidate*> chosen;
    auto compatible = [&](const Candidate& c) {
        if (!usable(c, rules.avoid_struck ? now_ms : UINT64_MAX, exclude)) return false;
        for (const Candidate* o : chosen) {
            if (o == &c) return false;
            if (rules.distinct_swarms && o->swarm_id == c.swarm_id) return false;
            if (rules.distinct_nets && network_of(o->hop.address) == network_of(c.hop.address)) return false;
        }
        return true;
    };
    auto pick_random = [&]() -> const Candidate* {
        std::vector<const Candidate*> options;
        for (const auto& c : candidates_) {
            if (compatible(c)) options.push_back(&c);
        }
        if (options.empty()) return nullptr;
        return options[crypto::random_index(options.size())];
    };

    const Candidate* guard = guard_ ? find(guard_->node_id) : nullptr;
    if (guard && !compatible(*guard)) guard = nullptr;
    // A sticky guard that is merely excluded for this request (say, it is the destination)
    // is kept for later; a stand-in serves this one path.
    bool new_guard = !guard_;
    if (!guard) guard = pick_random();
    if (!guard) return std::nullopt;
    chosen.push_back(guard);
    while (chosen.size() < options_.hops) {
        const Candidate* next = pick_random();
        if (!next) return std::nullopt;
        chosen.push_back(next);
    }
    if (new_guard) guard_ = GuardState{guard->hop.node_id, now_ms};
    Path path;
    for (const Candidate* c : chosen) path.push_back(c->hop);
    return path;
}

}  // namespace veil::onion
