// libFuzzer target: strip_png on arbitrary bytes must refuse cleanly (FormatError) or
// produce output that strips again to the same bytes (idempotent), in both orientation modes.
// Each input is also tried with its chunk CRCs repaired, so mutations reach past the CRC check.

#include <zlib.h>

#include <cstdint>
#include <cstdlib>

#include "png_strip.hpp"

using namespace veil::exif_strip;

namespace {

void check(ByteView in) {
    for (const auto mode : {OrientationMode::keep, OrientationMode::drop}) {
        StripResult first;
        try {
            strip_png(in, StripOptions{mode}, first);
        } catch (const FormatError&) {
            continue;
        }
        StripResult second;
        strip_png(first.bytes, StripOptions{mode}, second);  // must parse its own output
        if (second.bytes != first.bytes) std::abort();
    }
}

// Rewrites the CRC of every complete chunk.
Bytes with_crcs_fixed(ByteView in) {
    Bytes b(in.begin(), in.end());
    std::size_t p = 8;
    while (p + 12 <= b.size()) {
        const std::size_t len = (std::size_t{b[p]} << 24) | (std::size_t{b[p + 1]} << 16) | (std::size_t{b[p + 2]} << 8) | b[p + 3];
        if (len > b.size() - p - 12) break;
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), b.data() + p + 4, static_cast<uInt>(4 + len));
        for (int i = 0; i < 4; ++i) b[p + 8 + len + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
        p += 12 + len;
    }
    return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    check(in);
    check(with_crcs_fixed(in));
    return 0;
}
