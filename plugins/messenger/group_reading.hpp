#pragma once
/// Reading a group mailbox page by page from one service node (docs/groups.md §Reading): the
/// node is not trusted with the items' bytes, only with serving them. Loop thread.

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "group_book.hpp"
#include "veil/proto/node_rpc.hpp"

namespace veil::messenger {

/// What one read of a group mailbox gave.
struct GroupRead final {
    std::vector<GroupMessage> messages;  ///< opened, in the node's order (waiting ones that opened first)
    std::size_t tampered = 0;            ///< items whose bytes do not hash to the hash the node gave
    std::size_t items = 0;               ///< items the node served
    bool changed = false;                ///< the book moved (chains ratcheted, cursor, waiting): save it
};

/// Handles the items that `node` served from `mailbox` (a mailbox of `group`), after the cursor
/// the book holds for that node: first the envelopes held waiting for their chain, then each
/// item whose hash is its message hash (proto::node::message_hash over the mailbox, namespace 0
/// and its bytes) and that `handled` does not hold. An item whose bytes do not match its hash is
/// refused, not remembered, and stops the node's cursor before it (the real item, from an
/// honest member, still opens). Only what opened (ours or someone's) goes into `handled`; one
/// still waiting for its chain is held in the book (GroupBook::hold_waiting: a member's only).
/// The node's cursor moves to the last item it served, up to the first tampered one (a waiting
/// envelope the book gives up for room is remembered there, and its mailbox read again from the
/// start once a chain from its claimed owner arrives).
GroupRead read_group_items(GroupBook& book, const crypto::GroupId& group, const crypto::PublicKey& mailbox,
                           const crypto::PublicKey& node, const std::vector<proto::node::MessageItem>& items,
                           std::set<proto::node::Hash>& handled);

}  // namespace veil::messenger
