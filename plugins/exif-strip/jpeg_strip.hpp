#pragma once
// JPEG metadata removal: keeps the frame, tables, scans, JFIF header (without its thumbnail),
// ICC profile (APP2) and Adobe colour-transform marker (APP14); removes EXIF/XMP (APP1),
// IPTC/Photoshop (APP13), FlashPix/MPF (APP2), every other APPn, comments and data after EOI.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Strips in into out (cleared first; its buffer is reused). Throws FormatError when in is
/// not a complete JPEG (no SOI, a segment running past the end, a scan before the frame
/// header, an unknown marker, no EOI); out's contents are then unspecified.
void strip_jpeg(ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
