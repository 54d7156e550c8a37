#pragma once
// TIFF metadata removal (classic TIFF, II and MM): every IFD (every page) keeps only the tags
// needed to decode its picture; the file is rewritten with the pixel data copied byte for byte
// to new offsets, so nothing unreferenced (EXIF/GPS IFDs, XMP, thumbnails) is carried along.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first). Throws FormatError when in is not a complete classic
/// TIFF (bad header, an IFD, value or strip past the end, an IFD loop, no image data), and for
/// BigTIFF, DNG and old-style JPEG-in-TIFF, which are not rewritten.
void strip_tiff(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
