// libFuzzer target: strip_bmff (ISO BMFF box walking, movie boxes, HEIF item tables) on
// arbitrary bytes must refuse cleanly (FormatError) or produce output of the same size (it
// works in place) that strips again to the same bytes.

#include <cstdint>
#include <cstdlib>

#include "bmff_strip.hpp"

using namespace veil::exif_strip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    StripResult first;
    try {
        strip_bmff(in, StripOptions{}, first);
    } catch (const FormatError&) {
        return 0;
    }
    if (first.bytes.size() != size) std::abort();
    StripResult second;
    strip_bmff(first.bytes, StripOptions{}, second);  // must parse its own output
    if (second.bytes != first.bytes) std::abort();
    return 0;
}
