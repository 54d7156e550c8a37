#include "parked.hpp"

#include <algorithm>

namespace veil::node {

std::optional<std::uint64_t> ParkedIndex::add(const Wake& key, std::uint64_t token) {
    auto& tokens = by_key_[{key.mailbox, key.ns}];
    tokens.push_back(token);
    if (tokens.size() <= per_key_) return std::nullopt;
    auto oldest = tokens.front();
    tokens.pop_front();
    return oldest;
}

void ParkedIndex::remove(const Wake& key, std::uint64_t token) {
    auto it = by_key_.find({key.mailbox, key.ns});
    if (it == by_key_.end()) return;
    std::erase(it->second, token);
    if (it->second.empty()) by_key_.erase(it);
}

std::vector<std::uint64_t> ParkedIndex::waiting(const Wake& key) const {
    auto it = by_key_.find({key.mailbox, key.ns});
    if (it == by_key_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

}  // namespace veil::node
