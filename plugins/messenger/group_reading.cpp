#include "group_reading.hpp"

#include "veil/crypto/error.hpp"
#include "veil/proto/namespaces.hpp"
#include "veil/proto/owner_auth.hpp"

namespace veil::messenger {
namespace {

enum class Outcome { opened = 1, waiting, refused };

// Opens one envelope into `read`; never throws (a refusal is a verdict).
Outcome open_one(GroupBook& book, const crypto::GroupId& group, wire::ByteView envelope, GroupRead& read) {
    GroupMessage m;
    try {
        switch (book.open(group, envelope, m)) {
        case GroupBook::Opened::waiting:
            return Outcome::waiting;
        case GroupBook::Opened::own:
            return Outcome::opened;
        case GroupBook::Opened::message:
            read.messages.push_back(std::move(m));
            read.changed = true;  // the chain ratcheted
            return Outcome::opened;
        }
    } catch (const std::exception&) {
        // Replayed (opened in an earlier round or process), forged, of a removed member.
    }
    return Outcome::refused;
}

}  // namespace

GroupRead read_group_items(GroupBook& book, const crypto::GroupId& group, const crypto::PublicKey& mailbox,
                           const crypto::PublicKey& node, const std::vector<proto::node::MessageItem>& items,
                           std::set<proto::node::Hash>& handled) {
    GroupRead read;
    read.items = items.size();
    auto held = book.take_waiting(group);
    read.changed = !held.empty();
    for (const auto& envelope : held) {
        if (open_one(book, group, envelope, read) == Outcome::waiting) book.hold_waiting(group, envelope);
    }
    std::optional<proto::node::Hash> cursor;
    bool cursor_stopped = false;
    for (const auto& item : items) {
        // The node names the item; its bytes must be what that name stands for, or a hostile
        // node could make us remember a real message's hash with junk and hide the message.
        if (proto::node::message_hash(mailbox, proto::node::kEnvelopeNamespace, item.data) != item.hash) {
            ++read.tampered;
            cursor_stopped = true;
            continue;
        }
        if (!cursor_stopped) cursor = item.hash;
        if (handled.count(item.hash)) continue;
        const auto outcome = open_one(book, group, item.data, read);
        if (outcome == Outcome::opened) handled.insert(item.hash);
        if (outcome == Outcome::waiting) {
            book.hold_waiting(group, item.data);
            read.changed = true;
        }
    }
    if (cursor && book.cursor(group, mailbox, node) != cursor) {
        book.set_cursor(group, mailbox, node, *cursor);
        read.changed = true;
    }
    return read;
}

}  // namespace veil::messenger
