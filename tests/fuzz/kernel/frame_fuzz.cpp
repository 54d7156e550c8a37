// FrameDecoder on arbitrary TCP bytes, fed in data-chosen chunk sizes: never reads out of
// bounds, never yields a frame over the limit (nor over the per-frame FrameLimit of its payload,
// here: the service a request names, as a node sizes its frames), and re-encodes what it yields
// identically.
#include <cstdlib>

#include "veil/sdk/transport.hpp"

#include "veil/sdk/net.hpp"

using namespace veil::sdk::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::size_t chunk = 1 + data[0] % 64;
    namespace tr = veil::sdk::transport;
    // Requests naming "big" may use the whole 256 bytes, any other service 64.
    auto cap_of = [](veil::wire::ByteView head) -> std::size_t {
        auto p = tr::peek_service(head);
        return p.state == tr::ServicePeek::State::named && p.service == "big" ? 256 : 64;
    };
    FrameLimit limit = [&](veil::wire::ByteView head) -> std::optional<std::size_t> {
        auto p = tr::peek_service(head);
        if (p.state == tr::ServicePeek::State::need_more) return std::nullopt;
        return cap_of(head);
    };
    bool limited = data[0] & 0x80;
    FrameDecoder d(256, limited ? limit : FrameLimit{});
    for (std::size_t i = 1; i < size; i += chunk) {
        if (!d.feed(data + i, std::min(chunk, size - i))) break;
        while (auto f = d.next()) {
            if (f->payload.size() > 256) std::abort();
            if (limited && f->payload.size() > cap_of(f->payload)) std::abort();
            auto again = encode_frame(*f);
            FrameDecoder check(256);
            check.feed(again.data(), again.size());
            auto g = check.next();
            if (!g || g->id != f->id || g->status != f->status || g->payload != f->payload) std::abort();
        }
    }
    return 0;
}
