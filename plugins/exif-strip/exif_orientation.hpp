#pragma once
// Reads the orientation tag from an EXIF (TIFF) block and writes a block holding only it.

#include "strip_types.hpp"

namespace veil::exif_strip {

/// Orientation (1..8) from IFD0 of a TIFF-structured EXIF block, with or without the
/// "Exif\0\0" prefix. Returns 0 when absent or malformed; never reads out of bounds.
std::uint16_t read_exif_orientation(ByteView exif);

/// A minimal big-endian TIFF block whose only tag is Orientation (no "Exif\0\0" prefix).
Bytes make_orientation_exif(std::uint16_t orientation);

}  // namespace veil::exif_strip
