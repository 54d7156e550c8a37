#include "chat_message.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace veil::messenger {
namespace {

template <std::size_t N>
void read_into(wire::Reader& r, std::array<std::uint8_t, N>& out) {
    auto b = r.raw(N);
    std::copy(b.begin(), b.end(), out.begin());
}

void write_ref(wire::Writer& w, const sdk::attachment::AttachmentRef& a) {
    w.raw(a.id).raw(a.key).raw(a.digest).u64(a.size_bytes).str(a.mime_type).str(a.file_name);
}

sdk::attachment::AttachmentRef read_ref(wire::Reader& r) {
    sdk::attachment::AttachmentRef a;
    read_into(r, a.id);
    read_into(r, a.key);
    read_into(r, a.digest);
    a.size_bytes = r.u64();
    a.mime_type = r.str(kMaxAttachmentNameBytes);
    a.file_name = r.str(kMaxAttachmentNameBytes);
    // A base name only: the receiver must never be told where to write.
    if (a.file_name.find('/') != std::string::npos || a.file_name.find('\0') != std::string::npos ||
        a.file_name == "." || a.file_name == "..") {
        throw wire::DecodeError("chat message: attachment name is not a base name");
    }
    return a;
}

bool same_ref(const sdk::attachment::AttachmentRef& a, const sdk::attachment::AttachmentRef& b) {
    return a.id == b.id && a.key == b.key && a.digest == b.digest && a.size_bytes == b.size_bytes &&
           a.mime_type == b.mime_type && a.file_name == b.file_name;
}

}  // namespace

bool operator==(const ChatMessage& a, const ChatMessage& b) {
    bool refs = a.attachment.has_value() == b.attachment.has_value() &&
                (!a.attachment || same_ref(*a.attachment, *b.attachment));
    return refs && a.kind == b.kind && a.contact_flags == b.contact_flags && a.id == b.id && a.sent_at_ms == b.sent_at_ms && a.text == b.text &&
           a.disappear_after_s == b.disappear_after_s && a.sync_peer == b.sync_peer && a.group_control == b.group_control && a.seq == b.seq;
}

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
    w.u32(m.disappear_after_s);
    if (m.kind == ChatKind::attachment) write_ref(w, m.attachment.value_or(sdk::attachment::AttachmentRef{}));
    if (m.kind == ChatKind::contact) w.u8(m.contact_flags);
    if (m.kind == ChatKind::group_control || m.kind == ChatKind::group_leave) w.var(m.group_control);
    w.u8(m.sync_peer ? 1 : 0);
    if (m.sync_peer) w.raw(m.sync_peer->x25519);
    w.u64(m.seq);
    return w.take();
}

ChatMessage decode_chat(wire::ByteView bytes) {
    wire::Reader r(bytes);
    auto version = r.u8();
    if (version < 1 || version > kChatFormatVersion) throw wire::DecodeError("chat message: unknown format version");
    ChatMessage m;
    auto kind = r.u8();
    if (kind < 1 || kind > 6 || (version == 1 && kind != 1)) throw wire::DecodeError("chat message: unknown kind");
    m.kind = static_cast<ChatKind>(kind);
    read_into(r, m.id);
    m.sent_at_ms = r.u64();
    m.text = r.str(kMaxTextBytes);
    if (version >= 2) {
        m.disappear_after_s = r.u32();
        if (m.disappear_after_s > kMaxDisappearS) throw wire::DecodeError("chat message: timer too long");
    }
    if (m.kind == ChatKind::attachment) m.attachment = read_ref(r);
    if (m.kind == ChatKind::timer && !m.text.empty()) throw wire::DecodeError("chat message: a timer change has no text");
    if (m.kind == ChatKind::contact) {
        m.contact_flags = r.u8();
        if (m.contact_flags > (kContactAccepted | kContactBlocked)) throw wire::DecodeError("chat message: bad contact flags");
        if (m.text.size() > kMaxContactNameBytes) throw wire::DecodeError("chat message: contact name too long");
    }
    if (m.kind == ChatKind::group_control || m.kind == ChatKind::group_leave) {
        if (!m.text.empty()) throw wire::DecodeError("chat message: a group control has no text");
        auto control = r.var(kMaxGroupControlBytes);
        if (m.kind == ChatKind::group_leave && control.size() != 64) throw wire::DecodeError("chat message: bad leave notice");
        m.group_control.assign(control.begin(), control.end());
    }
    auto has_peer = r.u8();
    if (has_peer > 1) throw wire::DecodeError("chat message: bad flag");
    if (has_peer) {
        crypto::VeilId peer;
        read_into(r, peer.x25519);
        m.sync_peer = peer;
    }
    if (m.kind == ChatKind::contact && !m.sync_peer) throw wire::DecodeError("chat message: a contact names no one");
    if (version >= 3) m.seq = r.u64();
    r.expect_done();
    return m;
}

std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    auto end = max_bytes;
    // Back off continuation bytes (10xxxxxx): the cut lands before the character they belong to.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return std::string(text.substr(0, end));
}

}  // namespace veil::messenger
