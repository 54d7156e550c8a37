// libFuzzer target: strip_bmff (ISO BMFF box walking, movie boxes, HEIF item tables) on
// arbitrary bytes must refuse cleanly (FormatError) or produce output of the same size (it
// works in place) that strips again to the same bytes.

#include <cstdint>
#include <cstdlib>

#include "bmff_strip.hpp"
#include "strip_twice.hpp"

using namespace veil::exif_strip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    auto out = strip_twice(strip_bmff, in, StripOptions{});
    if (out && out->size() != size) std::abort();  // it works in place
    return 0;
}
