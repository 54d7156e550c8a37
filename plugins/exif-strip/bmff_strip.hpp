#pragma once
// ISO BMFF metadata removal: HEIC/HEIF, AVIF, MP4, MOV, M4A. Neutralises in place, so the file
// keeps its size and no chunk or item offset moves: metadata boxes (udta, meta, uuid at every
// level of the movie and the file) become 'free' boxes of the same size with zeroed content,
// the creation/modification times of mvhd/tkhd/mdhd are zeroed, the samples of timed metadata
// tracks (GPS fixes) are zeroed, and a picture's metadata items go (heif_strip.hpp). Other
// sample and image data are not touched.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first). Throws FormatError when in is not a complete ISO BMFF
/// file (truncated or bad box, chunk or item data past the end, no movie and no image).
void strip_bmff(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
