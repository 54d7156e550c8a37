#pragma once
/// Parked subscribes by (mailbox, namespace): which long-polls a new message wakes. A store
/// re-runs only the subscribes of its own namespace, and at most `per_key` of them: when one
/// more parks on a full key, the oldest is answered at once (with its empty page; it subscribes
/// again), so a stranger parking many public subscribes cannot make every store costly.
/// Loop thread only.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "service.hpp"

namespace veil::node {

class ParkedIndex final {
public:
    explicit ParkedIndex(std::size_t per_key) : per_key_(per_key) {}

    /// Adds `token` (tokens rise); returns the oldest token of the key when it must leave to make room.
    std::optional<std::uint64_t> add(const Wake& key, std::uint64_t token);
    void remove(const Wake& key, std::uint64_t token);
    /// The tokens a new message in `key` wakes, oldest first (at most per_key).
    [[nodiscard]] std::vector<std::uint64_t> waiting(const Wake& key) const;
    void clear() { by_key_.clear(); }

private:
    using Key = std::pair<PublicKey, std::uint16_t>;
    std::size_t per_key_;
    std::map<Key, std::deque<std::uint64_t>> by_key_;
};

}  // namespace veil::node
