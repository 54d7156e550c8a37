// libFuzzer target: strip_webp on arbitrary bytes must refuse cleanly (FormatError) or
// produce output that strips again to the same bytes (idempotent), in both orientation modes.

#include <cstdint>
#include <cstdlib>

#include "webp_strip.hpp"
#include "strip_twice.hpp"

using namespace veil::exif_strip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    for (const auto mode : {OrientationMode::keep, OrientationMode::drop}) {
        (void)strip_twice(strip_webp, in, StripOptions{mode});
    }
    return 0;
}
