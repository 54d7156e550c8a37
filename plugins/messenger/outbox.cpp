#include "outbox.hpp"

namespace veil::messenger {

namespace st = sdk::storage;

std::string outbox_key(const MessageId& id) { return std::string(kOutboxPrefix) + wire::to_hex(id); }

std::optional<MessageId> outbox_id(std::string_view key) {
    if (!key.starts_with(kOutboxPrefix)) return std::nullopt;
    try {
        auto b = wire::from_hex(key.substr(kOutboxPrefix.size()));
        if (b.size() != MessageId{}.size()) return std::nullopt;
        return wire::to_array<16>(b);
    } catch (const wire::DecodeError&) {
        return std::nullopt;
    }
}

sdk::storage::BatchOp outbox_op(const MessageId& id, const std::vector<proto::node::StoreRequest>& stores) {
    wire::Writer w;
    w.u8(1).u32(static_cast<std::uint32_t>(stores.size()));
    for (const auto& s : stores) w.raw(s.mailbox).u16(s.ns).u64(s.ttl_ms).var(s.data);
    return {st::BatchOp::Kind::put, std::string(kStorageNs), outbox_key(id), w.take()};
}

std::vector<proto::node::StoreRequest> decode_outbox(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != 1) throw wire::DecodeError("outbox: unknown version");
    auto n = r.u32();
    if (n > 1000) throw wire::DecodeError("outbox: too many stores");
    std::vector<proto::node::StoreRequest> out;
    for (std::uint32_t i = 0; i < n; ++i) {
        proto::node::StoreRequest s;
        auto k = r.raw(32);
        std::copy(k.begin(), k.end(), s.mailbox.begin());
        s.ns = r.u16();
        s.ttl_ms = r.u64();
        auto d = r.var(proto::node::kMaxDataBytes);
        s.data.assign(d.begin(), d.end());
        out.push_back(std::move(s));
    }
    r.expect_done();
    return out;
}

sdk::storage::BatchOp queued_op(const crypto::VeilId& to, const ChatMessage& message) {
    wire::Writer key;
    key.u64(message.sent_at_ms);
    wire::Writer w;
    w.u8(1).raw(to.x25519).var(encode(message));
    return {st::BatchOp::Kind::put, std::string(kStorageNs),
            std::string(kQueuePrefix) + wire::to_hex(key.bytes()) + "/" + wire::to_hex(message.id), w.take()};
}

std::pair<crypto::VeilId, ChatMessage> decode_queued(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != 1) throw wire::DecodeError("queued message: unknown version");
    crypto::VeilId to;
    auto k = r.raw(32);
    std::copy(k.begin(), k.end(), to.x25519.begin());
    auto m = decode_chat(r.var(kMaxTextBytes + 256));
    r.expect_done();
    return {to, std::move(m)};
}

std::string held_reason(const std::map<MessageId, sdk::Error>& held, const std::vector<MessageId>& mine) {
    for (const auto& id : mine) {
        if (auto it = held.find(id); it != held.end()) return it->second.message;
    }
    return {};
}

}  // namespace veil::messenger
