#include "public_gather.hpp"

#include <algorithm>

namespace veil::messenger {

bool absence_agreed(ReadCoverage c, bool every_member) {
    if (c.members == 0) return false;
    return every_member ? c.complete == c.members : c.complete > c.members / 2;
}

PublicGather::PublicGather(std::size_t members, std::size_t max_bytes)
    : share_bytes_(max_bytes / std::max<std::size_t>(members, 1)), members_(std::max<std::size_t>(members, 1)) {}

bool PublicGather::add_page(std::size_t member, std::vector<proto::node::MessageItem> page) {
    auto& m = members_.at(member);
    for (auto& item : page) {
        if (m.full) break;
        // Counted whether new or not: the share bounds what this member made us receive.
        if (m.bytes + item.data.size() > share_bytes_ || m.items >= kMaxPublicItems) {
            m.full = true;
            break;
        }
        m.bytes += item.data.size();
        ++m.items;
        if (seen_.insert(item.hash).second) items_.push_back(std::move(item));
    }
    if (++m.pages >= kMaxPublicPages) m.full = true;
    return !m.full;
}

}  // namespace veil::messenger
