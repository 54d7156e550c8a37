#pragma once
// PNG metadata removal: keeps the chunks that define the picture (IHDR, PLTE, IDAT, IEND,
// transparency, gamma, chromaticities, sRGB, iCCP, cICP/mDCv/cLLi, sBIT, pHYs, bKGD, APNG animation);
// removes eXIf, tEXt, zTXt, iTXt (XMP), tIME and every other ancillary chunk, and data after IEND.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first). Throws FormatError when in is not a complete, intact
/// PNG (bad signature, IHDR not first, a chunk past the end, a CRC mismatch, an unknown
/// critical chunk, no IDAT, no IEND).
void strip_png(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
