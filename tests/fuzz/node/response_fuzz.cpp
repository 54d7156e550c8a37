// Fuzzes what a client or a catching-up node decodes from a node: responses of every method and
// the peer replies (summary, bucket page, messages). Beyond not crashing, every decoded value
// re-encodes to bytes that decode to the same bytes again (the codec loses or invents nothing).
#include "veil/proto/node_rpc.hpp"
#include "veil/proto/peer_rpc.hpp"

namespace {
using veil::wire::Bytes;
using veil::wire::ByteView;

// encode(decode(x)) is a fixed point: decoding and re-encoding it gives the same bytes.
template <class Decode, class Encode>
void check_round_trip(ByteView in, Decode decode, Encode encode) {
    Bytes once;
    try {
        once = encode(decode(in));
    } catch (const veil::wire::DecodeError&) {
        return;
    }
    if (encode(decode(once)) != once) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace node = veil::proto::node;
    ByteView in(data, size);
    if (in.empty()) return 0;
    auto method = static_cast<node::Method>(1 + in[0] % 10);
    auto rest = in.subspan(1);
    check_round_trip(rest, [&](ByteView b) { return node::decode_response(method, b); },
                     [&](const node::Response& r) { return node::encode_response(method, r); });
    switch (in[0] % 3) {
        case 0: check_round_trip(rest, node::decode_summary, node::encode_summary); break;
        case 1: check_round_trip(rest, node::decode_bucket_page, node::encode_bucket_page); break;
        default: check_round_trip(rest, node::decode_messages, node::encode_messages); break;
    }
    return 0;
}
