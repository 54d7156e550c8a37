#include "bmff_strip.hpp"

#include <cstring>
#include <string>

#include "bmff_box.hpp"
#include "heif_strip.hpp"

namespace veil::exif_strip {
namespace {

using bmff::Box;

// Boxes that hold only descriptive metadata (user data, iTunes/QuickTime keys and items such
// as ©xyz and com.apple.quicktime.location.ISO6709, XMP and vendor uuid boxes).
bool is_metadata_box(std::string_view type) { return type == "udta" || type == "meta" || type == "uuid" || type == "XMP_"; }

// Containers walked for metadata boxes, times and chunk offsets.
bool is_movie_container(std::string_view type) {
    return type == "moov" || type == "trak" || type == "mdia" || type == "minf" || type == "stbl" || type == "edts" ||
           type == "mvex" || type == "moof" || type == "traf";
}

void report(StripResult& out, const Box& b, const char* what) {
    out.removed.push_back(std::string(b.type) + what + " (" + std::to_string(b.size) + " bytes)");
}

// mvhd/tkhd/mdhd: creation and modification times zeroed (32-bit in version 0, 64 in 1).
void zero_times(ByteView in, const Box& b, StripResult& out) {
    const auto fb = bmff::parse_full_box(in, b);
    if (fb.version > 1) throw FormatError("BMFF: unknown " + std::string(b.type) + " version");
    const std::size_t n = fb.version == 1 ? 16 : 8;
    if (b.end() - fb.body_offset < n) throw FormatError("truncated BMFF: " + std::string(b.type));
    std::memset(&out.bytes[fb.body_offset], 0, n);
}

// stco/co64: every chunk must start inside the file (a file cut after its moov is refused).
void check_chunk_offsets(ByteView in, const Box& b) {
    const auto fb = bmff::parse_full_box(in, b);
    bmff::Reader r(in, fb.body_offset, b.end(), std::string(b.type));
    const auto count = r.read(4);
    const std::size_t width = b.type == "co64" ? 8 : 4;
    if (count > r.left() / width) throw FormatError("truncated BMFF: " + std::string(b.type));
    for (std::uint64_t i = 0; i < count; ++i) {
        if (r.read(width) >= in.size()) throw FormatError("truncated BMFF: a chunk starts past the end of the file");
    }
}

void strip_movie_box(ByteView in, const Box& box, int depth, StripResult& out) {
    if (depth > bmff::max_depth) throw FormatError("BMFF: boxes nested too deeply");
    bmff::for_each_box(in, box.payload_offset(), box.end(), box.type, [&](const Box& b) {
        if (is_metadata_box(b.type)) {
            bmff::neutralise(out.bytes, b);
            report(out, b, "");
        } else if (b.type == "mvhd" || b.type == "tkhd" || b.type == "mdhd") {
            zero_times(in, b, out);
        } else if (b.type == "stco" || b.type == "co64") {
            check_chunk_offsets(in, b);
        } else if (is_movie_container(b.type)) {
            strip_movie_box(in, b, depth + 1, out);
        }
    });
}

// A QuickTime file from before 'ftyp' starts with one of these.
bool is_first_box(std::string_view type) {
    return type == "ftyp" || type == "moov" || type == "mdat" || type == "wide" || type == "free" || type == "skip";
}

}  // namespace

void strip_bmff(ByteView in, const StripOptions& /*options*/, StripResult& out) {
    out.clear();
    out.bytes.assign(in.begin(), in.end());
    bool first = true, content = false;
    bmff::for_each_box(in, 0, in.size(), "the file", [&](const Box& b) {
        if (first && !is_first_box(b.type)) throw FormatError("not an ISO BMFF file: first box is '" + std::string(b.type) + "'");
        first = false;
        if (b.type == "moov") {
            content = true;
            strip_movie_box(in, b, 1, out);
        } else if (b.type == "meta" && is_picture_meta(in, b)) {
            content = true;
            strip_heif_meta(in, b, out);
        } else if (is_metadata_box(b.type)) {
            bmff::neutralise(out.bytes, b);
            report(out, b, " (file level)");
        }
    });
    if (!content) throw FormatError("BMFF: no movie (moov) and no image (meta) box");
}

}  // namespace veil::exif_strip
