#pragma once
// The boxes a player needs inside each movie container (ISO/IEC 14496-12, QuickTime) and inside
// a picture meta box (ISO/IEC 23008-12): the allow-lists the strippers keep (issue 22). Any
// other child is neutralised, dropped or zeroed: a 'meco' (additional metadata container), a
// skip box or a vendor box may carry an artist, a comment or a location.

#include <string_view>

namespace veil::exif_strip::bmff {

/// True when `type` is a box a player needs as a child of `container`: a movie container (moov,
/// trak, edts, mdia, minf, stbl, mvex, moof, traf, mfra) or a picture's meta, iprp or ipco.
bool is_playback_child(std::string_view container, std::string_view type);

}  // namespace veil::exif_strip::bmff
