#include "inbox_items.hpp"

#include <set>
#include <utility>

#include "veil/proto/owner_auth.hpp"

namespace veil::messenger {

std::size_t drop_forged(const proto::node::PublicKey& mailbox, std::uint16_t ns,
                        std::vector<proto::node::MessageItem>& items) {
    return std::erase_if(items, [&](const proto::node::MessageItem& m) {
        return proto::node::message_hash(mailbox, ns, m.data) != m.hash;
    });
}

std::vector<proto::node::MessageItem> merge_genuine(const proto::node::PublicKey& mailbox, std::uint16_t ns,
                                                    std::vector<std::vector<proto::node::MessageItem>> answers,
                                                    std::size_t* forged) {
    std::vector<proto::node::MessageItem> out;
    std::set<proto::node::Hash> seen;
    for (auto& answer : answers) {
        auto dropped = drop_forged(mailbox, ns, answer);
        if (forged) *forged += dropped;
        for (auto& m : answer) {
            if (seen.insert(m.hash).second) out.push_back(std::move(m));
        }
    }
    return out;
}

}  // namespace veil::messenger
