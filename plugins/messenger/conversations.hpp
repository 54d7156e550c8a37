#pragma once
/// What the client holds in memory: contacts (message requests and blocked IDs included) and
/// message records, as the database holds them once written; the rules that decide what a
/// received message does here (requests, blocking, timers, duplicates); and the views frontends
/// get (sdk/messenger.hpp). Plain data and decisions: it neither reads nor writes the database
/// (callers write the ops it returns) nor publishes events. Loop-thread only.

#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::messenger {

/// When a message under a disappearing timer of `disappear_after_s` expires (0: never).
[[nodiscard]] std::uint64_t expiry_of(std::uint32_t disappear_after_s, std::uint64_t from_ms);

class Conversations final {
public:
    /// Replaces everything with what the database holds; `self` is our own Veil ID.
    void load(const crypto::VeilId& self, std::map<crypto::VeilId, ContactRecord> contacts,
              std::map<std::string, MessageRecord> messages);

    // ---- contacts ----
    [[nodiscard]] std::vector<ContactRecord> contacts() const;
    [[nodiscard]] std::optional<ContactRecord> contact(const crypto::VeilId& id) const;
    /// True when `peer`'s messages are a request (unknown sender, not accepted yet).
    [[nodiscard]] bool is_request(const crypto::VeilId& peer) const;
    void set_contact(const ContactRecord& c) { contacts_[c.id] = c; }

    // ---- messages ----
    [[nodiscard]] MessageRecord* find(const std::string& key);
    /// The record of the message whose id is `id_hex` (32 hex chars), or null.
    [[nodiscard]] const MessageRecord* find_by_id(const std::string& id_hex) const;
    void put(const MessageRecord& r) { messages_[record_key(r)] = r; }
    /// A conversation's newest `limit` messages, oldest first.
    [[nodiscard]] std::vector<MessageRecord> messages(const crypto::VeilId& peer, std::size_t limit) const;
    /// A closed group's newest `limit` messages, oldest first.
    [[nodiscard]] std::vector<MessageRecord> messages(const crypto::GroupId& group, std::size_t limit) const;
    /// Keys of the messages still queued (not sent, not failed).
    [[nodiscard]] std::vector<std::string> queued_keys() const;
    /// Marks the still-queued messages among `keys` sent; returns them.
    std::vector<MessageRecord> mark_sent(const std::vector<std::string>& keys, const std::set<MessageId>& except = {});
    /// Notes on a queued outgoing message why it waits (it stays queued); nullopt if no such
    /// queued message or nothing changed.
    std::optional<MessageRecord> note_waiting(const MessageId& id, const std::string& why);
    /// Marks the queued message `id` to `to` failed with `why`; returns it, if there was one.
    std::optional<MessageRecord> mark_failed(const crypto::VeilId& to, const MessageId& id, const std::string& why);
    /// Marks `peer`'s unread messages read; returns them.
    std::vector<MessageRecord> mark_read(const crypto::VeilId& peer);
    /// Marks a group's unread messages read; returns them.
    std::vector<MessageRecord> mark_read(const crypto::GroupId& group);
    /// Messages whose attachment download failed and is due again at `now_ms` (retry_at_ms set
    /// and reached).
    [[nodiscard]] std::vector<MessageRecord> pending_downloads(std::uint64_t now_ms) const;
    /// `peer`'s attachments that waited for the request to be accepted, taken once (their error
    /// is cleared in memory, so a second call does not return them again).
    std::vector<MessageRecord> take_waiting_files(const crypto::VeilId& peer);

    /// Expired messages, removed from memory: the erase ops and the files they had saved.
    struct Expired {
        std::vector<sdk::storage::BatchOp> ops;
        std::vector<std::string> files;
    };
    Expired take_expired(std::uint64_t now_ms);
    /// The earliest expiry of a message held (0: none disappears).
    [[nodiscard]] std::uint64_t next_expiry_ms() const;
    /// When the earliest failed download is due again (0: none waits; one under way does not).
    [[nodiscard]] std::uint64_t next_download_retry_ms() const;

    /// A message to `to` about to be queued: the conversation's timer applied, the record, and
    /// the contact (writing to someone accepts their request). Changes nothing in memory.
    struct Outgoing {
        MessageRecord record;
        ContactRecord contact;
        bool accepted_now = false;  ///< the contact is new or was a request
    };
    [[nodiscard]] Outgoing outgoing(const crypto::VeilId& to, ChatMessage message, std::uint64_t now_ms) const;
    /// The next sequence number of this device's shown messages to `to` (ChatMessage::seq): one
    /// above the last taken, or above the highest this device wrote that the records hold.
    std::uint64_t take_seq(const crypto::VeilId& to);

    /// What one receive round keeps: the records to show (oldest first), the contacts that
    /// changed, and the ops that save both. Applied to memory's contacts already; the records
    /// are put() by the caller once saved.
    struct Received {
        std::vector<MessageRecord> shown;
        std::vector<crypto::VeilId> changed;
        std::vector<sdk::storage::BatchOp> ops;
        std::size_t duplicates = 0;  ///< dropped: their id and time are already stored
    };
    /// Decides what opened messages do here: contact changes from our own devices, requests from
    /// strangers (their files wait), blocked senders dropped, timers applied, duplicates dropped.
    Received receive(std::vector<MessageRecord> opened, std::uint64_t now_ms);
    /// The same for messages opened from group mailboxes (each with its group set): duplicates
    /// and blocked senders dropped, our own (from another device) kept as sent and read.
    Received receive_group(std::vector<MessageRecord> opened, std::uint64_t now_ms);

    // ---- views ----
    [[nodiscard]] sdk::messenger::Message view(const MessageRecord& r) const;
    [[nodiscard]] sdk::messenger::Conversation conversation(const crypto::VeilId& peer) const;
    /// Every conversation (contacts and anyone with messages), the most recent first.
    [[nodiscard]] std::vector<sdk::messenger::Conversation> conversations() const;
    /// A closed group's conversation: unread count and newest message (the caller names it).
    [[nodiscard]] sdk::messenger::Conversation conversation(const crypto::GroupId& group) const;

private:
    /// Applies one opened message to the contacts; false when it is not kept as a record.
    bool apply_incoming(MessageRecord& r, std::uint64_t now_ms, Received& out);
    /// True (and counted) when `r`'s key is stored or among `seen`; else adds it to `seen`.
    bool duplicate(const MessageRecord& r, std::vector<std::string>& seen, Received& out);
    [[nodiscard]] std::vector<MessageRecord> messages_under(const std::string& prefix, std::size_t limit) const;
    std::vector<MessageRecord> mark_read_under(const std::string& prefix);
    /// Unread count and newest message of the records under `prefix`.
    void summarise(const std::string& prefix, sdk::messenger::Conversation& v) const;

    crypto::VeilId self_;
    std::map<std::string, MessageRecord> messages_;  // by record_key: per conversation, in time order
    std::map<crypto::VeilId, ContactRecord> contacts_;
    std::map<crypto::VeilId, std::uint64_t> last_seq_;  // per conversation: the last seq this device gave
};

}  // namespace veil::messenger
