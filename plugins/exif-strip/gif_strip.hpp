#pragma once
// GIF metadata removal (87a/89a): keeps the screen descriptor, colour tables, graphic control
// extensions, image descriptors and LZW data byte for byte, and the NETSCAPE2.0/ANIMEXTS1.0
// loop count; removes comments, every other application extension (XMP, ICC, ...), plain-text
// extensions (with their graphic control) and data after the trailer.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first). Throws FormatError when in is not a complete GIF
/// (bad header, a block past the end, no trailer, no image).
void strip_gif(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
