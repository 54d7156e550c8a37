#include "record.hpp"

#include <algorithm>

namespace veil::messenger {
namespace {

constexpr std::uint8_t kRecordVersion = 5;

crypto::VeilId read_id(wire::Reader& r) {
    auto k = r.raw(32);
    crypto::VeilId id;
    std::copy(k.begin(), k.end(), id.x25519.begin());
    return id;
}

std::string hex_id(const crypto::VeilId& id) { return wire::to_hex(id.x25519); }

}  // namespace

wire::Bytes encode(const MessageRecord& r) {
    wire::Writer w;
    w.u8(kRecordVersion).raw(r.peer.x25519).raw(r.from.x25519).var(encode(r.message));
    w.u8(static_cast<std::uint8_t>(r.delivery)).u8(r.read ? 1 : 0).u64(r.received_at_ms).u64(r.expires_at_ms);
    w.str(r.saved_path).str(r.error).u8(r.awaiting_accept ? 1 : 0);
    w.u32(r.download_failures).u64(r.retry_at_ms);
    w.u8(r.group ? 1 : 0);
    if (r.group) w.raw(*r.group);
    return w.take();
}

MessageRecord decode_record(wire::ByteView bytes) {
    wire::Reader r(bytes);
    auto version = r.u8();
    if (version < 1 || version > kRecordVersion) throw wire::DecodeError("message record: unknown version");
    MessageRecord m;
    m.peer = read_id(r);
    m.from = read_id(r);
    m.message = decode_chat(r.var(kMaxTextBytes + 1024));
    if (version == 1) {
        m.delivery = m.from == m.peer ? DeliveryState::received : DeliveryState::sent;
        m.received_at_ms = m.message.sent_at_ms;
    } else {
        auto d = r.u8();
        if (d < 1 || d > 4) throw wire::DecodeError("message record: unknown delivery state");
        m.delivery = static_cast<DeliveryState>(d);
        auto read = r.u8();
        if (read > 1) throw wire::DecodeError("message record: bad flag");
        m.read = read == 1;
        m.received_at_ms = r.u64();
        m.expires_at_ms = r.u64();
        m.saved_path = r.str(4096);
        m.error = r.str(1024);
    }
    if (version == 2) {
        m.awaiting_accept = m.error == kNotFetched;  // how version 2 marked it
    } else if (version >= 3) {
        auto awaiting = r.u8();
        if (awaiting > 1) throw wire::DecodeError("message record: bad flag");
        m.awaiting_accept = awaiting == 1;
    }
    if (version >= 4) {
        m.download_failures = r.u32();
        m.retry_at_ms = r.u64();
    }
    if (version >= 5) {
        auto has_group = r.u8();
        if (has_group > 1) throw wire::DecodeError("message record: bad flag");
        if (has_group == 1) {
            auto g = r.raw(32);
            m.group.emplace();
            std::copy(g.begin(), g.end(), m.group->begin());
        }
    }
    r.expect_done();
    return m;
}

std::string conversation_prefix(const crypto::VeilId& peer) {
    return std::string(kMessagePrefix) + hex_id(peer) + "/";
}

std::string conversation_prefix(const crypto::GroupId& group) {
    return std::string(kMessagePrefix) + "g" + wire::to_hex(group) + "/";
}

std::string record_key(const MessageRecord& r) {
    wire::Writer t;
    t.u64(r.message.sent_at_ms);
    return (r.group ? conversation_prefix(*r.group) : conversation_prefix(r.peer)) + wire::to_hex(t.bytes()) + "/" + wire::to_hex(r.message.id);
}

sdk::storage::BatchOp record_op(const MessageRecord& r) {
    return {sdk::storage::BatchOp::Kind::put, std::string(kStorageNs), record_key(r), encode(r)};
}

wire::Bytes encode(const ContactRecord& c) {
    wire::Writer w;
    w.u8(1).raw(c.id.x25519).str(c.name).u8(c.accepted ? 1 : 0).u8(c.blocked ? 1 : 0).u32(c.disappear_after_s);
    return w.take();
}

ContactRecord decode_contact(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != 1) throw wire::DecodeError("contact: unknown version");
    ContactRecord c;
    c.id = read_id(r);
    c.name = r.str(kMaxContactNameBytes);
    auto accepted = r.u8(), blocked = r.u8();
    if (accepted > 1 || blocked > 1) throw wire::DecodeError("contact: bad flag");
    c.accepted = accepted == 1;
    c.blocked = blocked == 1;
    c.disappear_after_s = r.u32();
    if (c.disappear_after_s > kMaxDisappearS) throw wire::DecodeError("contact: timer too long");
    r.expect_done();
    return c;
}

sdk::storage::BatchOp contact_op(const ContactRecord& c) {
    return {sdk::storage::BatchOp::Kind::put, std::string(kStorageNs), std::string(kContactPrefix) + hex_id(c.id),
            encode(c)};
}

}  // namespace veil::messenger
