#pragma once
// WebP metadata removal: keeps VP8X (flags fixed), ICCP, ANIM, ANMF (frame sub-chunks
// filtered), ALPH, VP8 and VP8L; removes EXIF, XMP, unknown chunks and data after the RIFF
// size; rewrites the RIFF size.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first). Throws FormatError when in is not a complete WebP
/// (bad RIFF header, a chunk past the end, no image data).
void strip_webp(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
