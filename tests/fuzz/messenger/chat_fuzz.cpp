// Decoders of bytes a peer controls (the chat message inside the ratchet: text, attachment ref,
// timer) or that come back from disk (the message record, the contact, the outbox, peers' device
// lists, the strangers holding sessions, a group leave notice): either a value or veil::wire::DecodeError (a stored
// device list that does not verify: veil::crypto::Error), never anything else; what decodes
// encodes back to itself.
#include <cstddef>
#include <cstdint>

#include "account.hpp"
#include "group_leave.hpp"
#include "veil/crypto/error.hpp"
#include "outbox.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    try {
        auto m = veil::messenger::decode_chat(in);
        if (veil::messenger::decode_chat(veil::messenger::encode(m)) != m) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto r = veil::messenger::decode_record(in);
        auto back = veil::messenger::decode_record(veil::messenger::encode(r));
        if (!(back.message == r.message) || back.group != r.group) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto notice = veil::messenger::decode_leave(in);
        if (veil::messenger::encode_leave(notice) != veil::wire::Bytes(in.begin(), in.end())) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto c = veil::messenger::decode_contact(in);
        if (!(veil::messenger::decode_contact(veil::messenger::encode(c)) == c)) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto stores = veil::messenger::decode_outbox(in);
        (void)veil::messenger::outbox_op({}, stores);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto [to, m] = veil::messenger::decode_queued(in);
        (void)veil::messenger::queued_op(to, m);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        auto lists = veil::messenger::PeerLists::decode(in);
        if (veil::messenger::PeerLists::decode(lists.encode()).encode() != lists.encode()) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    } catch (const veil::crypto::Error&) {
    }
    try {
        auto strangers = veil::messenger::StrangerSessions::decode(in);
        if (veil::messenger::StrangerSessions::decode(strangers.encode()).strangers() != strangers.strangers()) __builtin_trap();
    } catch (const veil::wire::DecodeError&) {
    }
    return 0;
}
