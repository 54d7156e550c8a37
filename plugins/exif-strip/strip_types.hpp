#pragma once
// Types shared by the format strippers (JPEG, PNG, WebP). Logic only: no kernel, no SDK.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace veil::exif_strip {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// What to do with the EXIF orientation, the one metadata field that changes how a photo looks.
enum class OrientationMode : std::uint8_t {
    unset = 0,
    keep,  ///< write it back alone in a minimal EXIF block (lossless, pixels untouched)
    drop,  ///< remove it too (the picture may then show sideways)
};

/// Options common to every format.
struct StripOptions final {
    OrientationMode orientation = OrientationMode::keep;
};

/// The stripped image and what was removed from it.
/// Reusing one StripResult across calls reuses its buffer (no allocation once warm).
struct StripResult final {
    Bytes bytes;
    /// One human-readable entry per removed block, e.g. "APP1 Exif (1234 bytes)".
    std::vector<std::string> removed;
    /// EXIF orientation found in the input (1..8), 0 when there was none.
    std::uint16_t orientation = 0;
    /// True when the orientation was written back into the output.
    bool orientation_kept = false;
    /// ISO BMFF: ranges zeroed plus mdat lookup steps (tests bound the work of hostile files).
    std::uint64_t zeroing_steps = 0;

    void clear() {
        bytes.clear();
        removed.clear();
        orientation = 0;
        orientation_kept = false;
        zeroing_steps = 0;
    }
};

/// The input is not a well-formed file of the format it claims to be: it is refused, never
/// passed on with its metadata. The message says what is wrong and where.
class FormatError final : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace veil::exif_strip
