#pragma once
/// Checks on the items a node answers a mailbox read with. An item's hash is the one the node
/// names it by (deletes, cursors, what was handled), and a node may lie about it: junk under a
/// real message's hash would be opened (and fail), deleted for every member, and remembered as
/// handled, so the honest copy is lost. Every item whose data does not hash to its name is
/// dropped before anything else sees it.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "veil/proto/node_rpc.hpp"

namespace veil::messenger {

/// Removes from `items` those whose hash is not message_hash(mailbox, ns, data); returns how many.
std::size_t drop_forged(const proto::node::PublicKey& mailbox, std::uint16_t ns,
                        std::vector<proto::node::MessageItem>& items);

/// Several members' answers merged by hash (the first genuine copy of each), forged items
/// dropped first: a forged copy cannot shadow an honest one. `forged` (may be null) counts them.
std::vector<proto::node::MessageItem> merge_genuine(const proto::node::PublicKey& mailbox, std::uint16_t ns,
                                                    std::vector<std::vector<proto::node::MessageItem>> answers,
                                                    std::size_t* forged = nullptr);

}  // namespace veil::messenger
