#pragma once
// What every stripper's fuzz target checks: on arbitrary bytes it refuses cleanly (FormatError)
// or produces output that strips again to the same bytes (it parses its own output).
#include <cstdlib>
#include <optional>

#include "strip_types.hpp"

namespace veil::exif_strip {

/// The first pass's output, or nullopt when the input was refused; aborts when a second pass
/// over that output changes it.
template <class Strip>
std::optional<Bytes> strip_twice(Strip strip, ByteView in, const StripOptions& options) {
    StripResult first;
    try {
        strip(in, options, first);
    } catch (const FormatError&) {
        return std::nullopt;
    }
    StripResult second;
    strip(first.bytes, options, second);
    if (second.bytes != first.bytes) std::abort();
    return std::move(first.bytes);
}

}  // namespace veil::exif_strip
