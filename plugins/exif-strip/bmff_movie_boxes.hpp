#pragma once
// The boxes a player needs inside each movie container (ISO/IEC 14496-12, QuickTime): the
// allow-list the MP4/MOV stripper keeps (issue 22). Any other child of a walked container is
// neutralised, as unknown top-level boxes are: a 'meco' (additional metadata container) or a
// vendor box may carry an artist, a comment or a location.

#include <string_view>

namespace veil::exif_strip::bmff {

/// True when `type` is a box a player needs as a child of the movie container `container`
/// (moov, trak, edts, mdia, minf, stbl, mvex, moof, traf or mfra).
bool is_playback_child(std::string_view container, std::string_view type);

}  // namespace veil::exif_strip::bmff
