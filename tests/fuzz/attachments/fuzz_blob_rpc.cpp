// libFuzzer target: the attachment store's request and response decoders on arbitrary bytes
// (what a node and a client receive) must refuse cleanly (wire::DecodeError) or decode to
// something that encodes back to exactly the same bytes.

#include <cstdint>
#include <cstdlib>

#include "veil/proto/blob_rpc.hpp"

using namespace veil;
using namespace veil::proto::blob;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView in(data, size);
    try {
        auto q = decode_request(in);
        if (encode_request(q) != Bytes(in.begin(), in.end())) std::abort();
    } catch (const wire::DecodeError&) {
    }
    for (auto method : {Method::put, Method::get, Method::list}) {
        try {
            auto r = decode_response(method, in);
            if (encode_response(r) != Bytes(in.begin(), in.end())) std::abort();
        } catch (const wire::DecodeError&) {
        }
    }
    return 0;
}
