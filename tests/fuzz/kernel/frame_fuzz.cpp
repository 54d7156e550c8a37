// FrameDecoder on arbitrary TCP bytes, fed in data-chosen chunk sizes: never reads out of
// bounds, never yields a frame over the limit, and re-encodes what it yields identically.
#include <cstdlib>

#include "veil/sdk/net.hpp"

using namespace veil::sdk::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::size_t chunk = 1 + data[0] % 64;
    FrameDecoder d(256);
    for (std::size_t i = 1; i < size; i += chunk) {
        if (!d.feed(data + i, std::min(chunk, size - i))) break;
        while (auto f = d.next()) {
            if (f->payload.size() > 256) std::abort();
            auto again = encode_frame(*f);
            FrameDecoder check(256);
            check.feed(again.data(), again.size());
            auto g = check.next();
            if (!g || g->id != f->id || g->status != f->status || g->payload != f->payload) std::abort();
        }
    }
    return 0;
}
