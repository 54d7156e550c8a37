#pragma once
/// What this device keeps about conversations, in the storage contract (namespace kStorageNs):
///  - messages: "msg/<peer hex>/<sent_at hex>/<id hex>" -> MessageRecord (a conversation is one
///    prefix scan, oldest first); a closed group's under "msg/g<group id hex>/..." (no peer's hex
///    starts with g, so the two never share a prefix);
///  - contacts: "contact/<peer hex>" -> ContactRecord (name, request, blocked, timer).
/// Both come back from disk only (the database is ours), but the decoders still check every field.

#include <cstdint>
#include <optional>
#include <string>

#include "chat_message.hpp"
#include "veil/crypto/group.hpp"
#include "veil/sdk/storage.hpp"

namespace veil::messenger {

/// Storage contract namespace of everything the messenger keeps.
inline constexpr std::string_view kStorageNs = "messenger";
/// Key prefix of stored messages.
inline constexpr std::string_view kMessagePrefix = "msg/";
/// Key prefix of contacts.
inline constexpr std::string_view kContactPrefix = "contact/";

/// Where an outgoing message is; incoming ones are `received`. Zero is never valid.
enum class DeliveryState : std::uint8_t { queued = 1, sent = 2, failed = 3, received = 4 };

/// A message as this device keeps it: which conversation, who wrote it, the message, and what
/// happened to it here.
struct MessageRecord final {
    crypto::VeilId peer;  ///< the other person of the conversation
    crypto::VeilId from;  ///< who wrote it (peer, or our own ID for our own messages)
    ChatMessage message;
    DeliveryState delivery = DeliveryState::received;
    bool read = false;
    std::uint64_t received_at_ms = 0;  ///< when this device got or queued it
    std::uint64_t expires_at_ms = 0;   ///< 0 = kept
    std::string saved_path;            ///< the verified attachment, kept encrypted, once downloaded
    std::string error;                 ///< why an attachment or a send failed ("" = none)
    bool awaiting_accept = false;      ///< a request's attachment, fetched once it is accepted
    std::uint32_t download_failures = 0;  ///< failed downloads of the attachment in a row
    std::uint64_t retry_at_ms = 0;     ///< a failed download is tried again from then; 0 = none pending
    /// A closed group's message: the conversation is the group (peer is then the sender, or
    /// ourselves for our own).
    std::optional<crypto::GroupId> group;
};
/// The error shown for a request's attachment while it awaits acceptance.
inline constexpr std::string_view kNotFetched = "not downloaded: accept the request to fetch it";
[[nodiscard]] wire::Bytes encode(const MessageRecord& r);
/// Reads versions 1 (before local state was kept), 2 (before awaiting_accept), 3 (before the
/// download retry), 4 (before groups) and 5. Throws wire::DecodeError.
[[nodiscard]] MessageRecord decode_record(wire::ByteView bytes);
/// The storage key of a record.
[[nodiscard]] std::string record_key(const MessageRecord& r);
/// The storage op that keeps a record.
[[nodiscard]] sdk::storage::BatchOp record_op(const MessageRecord& r);
/// The key prefix of one conversation's messages.
[[nodiscard]] std::string conversation_prefix(const crypto::VeilId& peer);
/// The key prefix of one closed group's messages.
[[nodiscard]] std::string conversation_prefix(const crypto::GroupId& group);

/// Someone this device knows: a contact, a message request, or a blocked ID.
struct ContactRecord final {
    crypto::VeilId id;
    std::string name;
    bool accepted = false;  ///< false while their messages are a request
    bool blocked = false;
    std::uint32_t disappear_after_s = 0;  ///< the conversation's timer, 0 = kept
    friend bool operator==(const ContactRecord&, const ContactRecord&) = default;
};
[[nodiscard]] wire::Bytes encode(const ContactRecord& c);
/// Throws wire::DecodeError.
[[nodiscard]] ContactRecord decode_contact(wire::ByteView bytes);
[[nodiscard]] sdk::storage::BatchOp contact_op(const ContactRecord& c);

}  // namespace veil::messenger
