#pragma once
// Names and paths that ISO BMFF structure boxes can hold (issue 22): the data references of a
// 'dinf' (a 'url '/'urn ' location, a QuickTime 'alis'/'rsrc' alias record with the volume
// name and the path of the media file, often under a user's home directory) and the reel name
// of a QuickTime timecode sample description ('tmcd' entry, its 'name' child). They are zeroed
// in place: every size, type and flag stays, so no offset moves.

#include <cstddef>

#include "bmff_box.hpp"

namespace veil::exif_strip::bmff {

/// Zeroes what follows the version and flags of every data reference entry in the 'dref' of
/// `dinf` (a box of `in`). `buffer` holds the output, where dinf's first byte is at `at`.
/// Returns how many entries held something. Throws FormatError on a bad box.
std::size_t clear_data_references(ByteView in, const Box& dinf, Bytes& buffer, std::size_t at);

/// Zeroes the payload of the child boxes of every 'tmcd' sample entry in `stsd` (a box of
/// `in`, at the same offset in `buffer`): the reel name. Returns how many held something.
std::size_t clear_reel_names(ByteView in, const Box& stsd, Bytes& buffer);

}  // namespace veil::exif_strip::bmff
