// libFuzzer target: strip_tiff on arbitrary bytes must refuse cleanly (FormatError) or
// produce output that strips again to the same bytes (idempotent), in both orientation modes,
// and never more output than twice the input (copies are bounded by the input's size).

#include <cstdint>
#include <cstdlib>

#include "tiff_strip.hpp"
#include "strip_twice.hpp"

using namespace veil::exif_strip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    for (const auto mode : {OrientationMode::keep, OrientationMode::drop}) {
        auto out = strip_twice(strip_tiff, in, StripOptions{mode});
        if (out && out->size() > 2 * in.size() + 64) std::abort();
    }
    return 0;
}
