// libFuzzer target: strip_tiff on arbitrary bytes must refuse cleanly (FormatError) or
// produce output that strips again to the same bytes (idempotent), in both orientation modes,
// and never more output than twice the input (copies are bounded by the input's size).

#include <cstdint>
#include <cstdlib>

#include "tiff_strip.hpp"

using namespace veil::exif_strip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    for (const auto mode : {OrientationMode::keep, OrientationMode::drop}) {
        StripResult first;
        try {
            strip_tiff(in, StripOptions{mode}, first);
        } catch (const FormatError&) {
            continue;
        }
        if (first.bytes.size() > 2 * in.size() + 64) std::abort();
        StripResult second;
        strip_tiff(first.bytes, StripOptions{mode}, second);  // must parse its own output
        if (second.bytes != first.bytes) std::abort();
    }
    return 0;
}
