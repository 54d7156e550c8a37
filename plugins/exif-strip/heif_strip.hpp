#pragma once
// HEIF/AVIF item metadata removal (ISO/IEC 23008-12): the Exif, XMP ('mime') and 'uri ' items,
// thumbnails ('thmb') and the items that only serve them (their alpha/depth planes, grid tiles)
// leave the item tables (iinf, iloc, iref, ipma); their bytes in mdat/idat are zeroed. Image
// items and their properties (irot, imir, colr, ...) stay bit-identical.

#include "bmff_box.hpp"

namespace veil::exif_strip {

/// True when `meta` (a top-level 'meta' box of in) holds images (handler 'pict').
bool is_picture_meta(ByteView in, const bmff::Box& meta);

/// Rewrites the picture 'meta' box of `in` into out.bytes (a copy of in) without its metadata
/// items, followed by a 'free' box filling the rest of its old size, so no item offset moves.
/// Throws FormatError on a malformed or truncated table, an item extent outside the file, a
/// removed item's bytes outside mdat or idat, a metadata item that shares bytes with an image,
/// or more to zero than the zeroer's budget (bounded work). Writes into zeroer.out().
void strip_heif_meta(ByteView in, const bmff::Box& meta, bmff::Zeroer& zeroer);

}  // namespace veil::exif_strip
