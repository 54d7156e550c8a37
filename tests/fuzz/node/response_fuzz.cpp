// Fuzzes what a client or a catching-up node decodes from a node: responses of every method and
// the peer replies (summary, bucket page, messages).
#include "veil/proto/peer_rpc.hpp"
#include "veil/proto/node_rpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    if (in.empty()) return 0;
    auto method = static_cast<veil::proto::node::Method>(1 + in[0] % 9);
    auto rest = in.subspan(1);
    try {
        (void)veil::proto::node::decode_response(method, rest);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        switch (in[0] % 3) {
            case 0: (void)veil::proto::node::decode_summary(rest); break;
            case 1: (void)veil::proto::node::decode_bucket_page(rest); break;
            default: (void)veil::proto::node::decode_messages(rest); break;
        }
    } catch (const veil::wire::DecodeError&) {
    }
    return 0;
}
