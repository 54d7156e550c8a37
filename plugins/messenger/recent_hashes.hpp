#pragma once
/// The inbox items this process handled lately (opened, or dropped as unreadable), so an item a
/// member serves again before the delete reached it (a long-poll made while the delete is on its
/// way, a read of every member for a gap) is not opened twice: a second open only fails, its
/// ratchet key spent. Bounded: the oldest are forgotten first. Loop-thread only.

#include <cstddef>
#include <deque>
#include <set>

#include "veil/proto/node_rpc.hpp"

namespace veil::messenger {

class RecentHashes final {
public:
    explicit RecentHashes(std::size_t capacity) : capacity_(capacity) {}

    /// True if `h` was added and not forgotten since.
    [[nodiscard]] bool contains(const proto::node::Hash& h) const { return set_.contains(h); }
    void add(const proto::node::Hash& h) {
        if (!set_.insert(h).second) return;
        order_.push_back(h);
        if (order_.size() > capacity_) {
            set_.erase(order_.front());
            order_.pop_front();
        }
    }

private:
    std::size_t capacity_;
    std::set<proto::node::Hash> set_;
    std::deque<proto::node::Hash> order_;
};

}  // namespace veil::messenger
