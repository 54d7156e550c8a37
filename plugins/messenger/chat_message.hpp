#pragma once
/// The message format inside the ratchet: what one device tells another. Versioned, encoded with
/// veil/wire/codec.hpp. Untrusted once decrypted (a peer writes it): decode() checks every field.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "veil/crypto/identity.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

/// Version 2 adds the disappearing timer and the attachment, timer and contact kinds; version 3
/// the sender's sequence number (seq); versions 1 (text only) and 2 are still read.
inline constexpr std::uint8_t kChatFormatVersion = 3;
/// Longest text accepted (bytes of UTF-8); keeps one envelope well under the node's data limit.
/// The contract's constant, so bots see the limit the messenger applies.
inline constexpr std::size_t kMaxTextBytes = sdk::messenger::kMaxTextBytes;
/// Longest attachment file name and MIME type accepted.
inline constexpr std::size_t kMaxAttachmentNameBytes = 255;
/// Longest contact name (bytes of UTF-8).
inline constexpr std::size_t kMaxContactNameBytes = 128;
/// Longest disappearing timer (the swarm's TTL limit: 14 days).
inline constexpr std::uint32_t kMaxDisappearS = 14 * 24 * 3600;

/// A message id: 16 random bytes chosen by the sender, the same on every device copy.
using MessageId = std::array<std::uint8_t, 16>;

/// What a message is. Zero is never valid.
enum class ChatKind : std::uint8_t {
    text = 1,        ///< text only
    attachment = 2,  ///< a file (AttachmentRef) with an optional caption in `text`
    timer = 3,       ///< the sender set the conversation's disappearing timer (no text)
    contact = 4,     ///< own devices only: the contact `sync_peer` is now named `text`, flags below
    group_control = 5,  ///< a closed group's control message (GroupBook) in `group_control`; never shown
    group_leave = 6,    ///< the sender leaves a group: `group_control` is its ID and the digest of the sender's state (group_leave.hpp); never shown
};

/// Largest group control carried in one message (an invitation holds the group's history).
inline constexpr std::size_t kMaxGroupControlBytes = 4u << 20;

/// Flags of a contact message.
inline constexpr std::uint8_t kContactAccepted = 1;
inline constexpr std::uint8_t kContactBlocked = 2;

struct ChatMessage final {
    ChatKind kind = ChatKind::text;
    MessageId id{};
    std::uint64_t sent_at_ms = 0;
    std::string text;
    /// The conversation's disappearing timer when sent (0 = kept); the receiver applies it.
    std::uint32_t disappear_after_s = 0;
    /// Kind contact: kContactAccepted | kContactBlocked.
    std::uint8_t contact_flags = 0;
    /// Set for kind attachment. Holds the file's key: a secret.
    std::optional<sdk::attachment::AttachmentRef> attachment;
    /// Set on the copies a sender sends to its own other devices: the conversation's peer.
    std::optional<crypto::VeilId> sync_peer;
    /// Kind group_control: the encoded control (group_book.hpp). Holds a mailbox seed or a chain
    /// key: the queue keeps it only in the encrypted database, and it is wiped once sent.
    wire::Bytes group_control;
    /// The writing device's number for this message in this conversation (1, 2, ...; 0: none,
    /// as in versions 1 and 2): a receiver shows one device's messages in this order
    /// (sender_order.hpp). Set when the message is queued; the same on every copy.
    std::uint64_t seq = 0;
    friend bool operator==(const ChatMessage&, const ChatMessage&);
};

/// A new text message with a random id. Throws std::invalid_argument when too long.
[[nodiscard]] ChatMessage make_text(std::string text, std::uint64_t now_ms);
/// The longest prefix of `text` of at most `max_bytes` that ends on a UTF-8 character boundary.
[[nodiscard]] std::string utf8_prefix(std::string_view text, std::size_t max_bytes);

[[nodiscard]] wire::Bytes encode(const ChatMessage& m);
/// Throws wire::DecodeError on a wrong version, unknown kind, oversize field, a field that does
/// not fit the kind, or trailing bytes.
[[nodiscard]] ChatMessage decode_chat(wire::ByteView bytes);

}  // namespace veil::messenger
