#pragma once
/// The message format inside the ratchet: what one device tells another. Versioned, encoded with
/// veil/wire/codec.hpp. Untrusted once decrypted (a peer writes it): decode() checks every field.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "veil/crypto/identity.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

inline constexpr std::uint8_t kChatFormatVersion = 1;
/// Longest text accepted (bytes of UTF-8); keeps one envelope well under the node's data limit.
inline constexpr std::size_t kMaxTextBytes = 16 * 1024;

/// A message id: 16 random bytes chosen by the sender, the same on every device copy.
using MessageId = std::array<std::uint8_t, 16>;

/// What a message is. Zero is never valid.
enum class ChatKind : std::uint8_t { text = 1 };

struct ChatMessage final {
    ChatKind kind = ChatKind::text;
    MessageId id{};
    std::uint64_t sent_at_ms = 0;
    std::string text;
    /// Set on the copies a sender sends to its own other devices: the conversation's peer.
    std::optional<crypto::VeilId> sync_peer;
    friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

/// A new text message with a random id.
[[nodiscard]] ChatMessage make_text(std::string text, std::uint64_t now_ms);

[[nodiscard]] wire::Bytes encode(const ChatMessage& m);
/// Throws wire::DecodeError on a wrong version, unknown kind, oversize text or trailing bytes.
[[nodiscard]] ChatMessage decode_chat(wire::ByteView bytes);

}  // namespace veil::messenger
