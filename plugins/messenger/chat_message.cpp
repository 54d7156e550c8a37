#include "chat_message.hpp"

#include <sodium.h>

#include <algorithm>

namespace veil::messenger {

ChatMessage make_text(std::string text, std::uint64_t now_ms) {
    if (text.size() > kMaxTextBytes) throw std::invalid_argument("the message is longer than 16 KiB");
    ChatMessage m;
    m.kind = ChatKind::text;
    randombytes_buf(m.id.data(), m.id.size());
    m.sent_at_ms = now_ms;
    m.text = std::move(text);
    return m;
}

wire::Bytes encode(const ChatMessage& m) {
    wire::Writer w;
    w.u8(kChatFormatVersion).u8(static_cast<std::uint8_t>(m.kind)).raw(m.id).u64(m.sent_at_ms).str(m.text);
    w.u8(m.sync_peer ? 1 : 0);
    if (m.sync_peer) w.raw(m.sync_peer->x25519);
    return w.take();
}

ChatMessage decode_chat(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kChatFormatVersion) throw wire::DecodeError("chat message: unknown format version");
    ChatMessage m;
    auto kind = r.u8();
    if (kind != static_cast<std::uint8_t>(ChatKind::text)) throw wire::DecodeError("chat message: unknown kind");
    m.kind = ChatKind::text;
    auto id = r.raw(m.id.size());
    std::copy(id.begin(), id.end(), m.id.begin());
    m.sent_at_ms = r.u64();
    m.text = r.str(kMaxTextBytes);
    auto has_peer = r.u8();
    if (has_peer > 1) throw wire::DecodeError("chat message: bad flag");
    if (has_peer) {
        auto k = r.raw(32);
        crypto::VeilId peer;
        std::copy(k.begin(), k.end(), peer.x25519.begin());
        m.sync_peer = peer;
    }
    r.expect_done();
    return m;
}

}  // namespace veil::messenger
