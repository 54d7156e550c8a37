#include "bmff_strip.hpp"

#include <cstring>
#include <optional>
#include <vector>
#include <string>

#include "bmff_box.hpp"
#include "heif_strip.hpp"

namespace veil::exif_strip {
namespace {

using bmff::Box;

constexpr std::uint64_t max_samples = 1 << 24;  // bounds work on a hostile sample table

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
    bmff::Reader r(in, fb.body_offset, b.end(), b.type);
    const auto count = r.read(4);
    const std::size_t width = b.type == "co64" ? 8 : 4;
    if (count > r.left() / width) throw FormatError("truncated BMFF: " + std::string(b.type));
    for (std::uint64_t i = 0; i < count; ++i) {
        if (r.read(width) >= in.size()) throw FormatError("truncated BMFF: a chunk starts past the end of the file");
    }
}

// The first direct child of `box` of a type, if any.
std::optional<Box> child(ByteView in, const Box& box, std::string_view type) {
    std::optional<Box> found;
    bmff::for_each_box(in, box.payload_offset(), box.end(), box.type, [&](const Box& b) {
        if (!found && b.type == type) found = b;
    });
    return found;
}

// A timed metadata track: its samples are metadata (handler 'meta': GPS fixes, GoPro gpmd,
// QuickTime mebx; 'camm': camera motion).
bool is_metadata_track(ByteView in, const Box& trak) {
    const auto mdia = child(in, trak, "mdia");
    const auto hdlr = mdia ? child(in, *mdia, "hdlr") : std::nullopt;
    if (!hdlr || hdlr->payload_size() < 12) return false;
    const std::string_view handler(reinterpret_cast<const char*>(&in[hdlr->payload_offset() + 8]), 4);
    return handler == "meta" || handler == "camm";
}

// Reads a full box's u32 entry count and checks that `entry_bytes` each fit in it.
std::uint64_t table_count(bmff::Reader& r, std::size_t entry_bytes) {
    const std::uint64_t count = r.read(4);
    if (count > r.left() / entry_bytes) throw FormatError("truncated BMFF: sample table");
    return count;
}

// Zeroes every sample of a timed metadata track, found through stsz, stsc and stco/co64.
void zero_samples(ByteView in, const Box& trak, const bmff::MediaData& media, StripResult& out) {
    const auto mdia = child(in, trak, "mdia");
    const auto minf = child(in, *mdia, "minf");
    const auto stbl = minf ? child(in, *minf, "stbl") : std::nullopt;
    const auto stsz = stbl ? child(in, *stbl, "stsz") : std::nullopt;
    const auto stsc = stbl ? child(in, *stbl, "stsc") : std::nullopt;
    auto stco = stbl ? child(in, *stbl, "stco") : std::nullopt;
    const std::size_t offset_bytes = stco ? 4 : 8;
    if (!stco && stbl) stco = child(in, *stbl, "co64");
    if (!stsz || !stsc || !stco) throw FormatError("BMFF: timed metadata track without stsz, stsc and stco (cannot remove its samples)");

    const auto sz = bmff::parse_full_box(in, *stsz);
    bmff::Reader sizes(in, sz.body_offset, stsz->end(), "stsz");
    const std::uint64_t uniform = sizes.read(4);
    const std::uint64_t samples = uniform == 0 ? table_count(sizes, 4) : sizes.read(4);
    if (samples > max_samples) throw FormatError("BMFF: too many samples in a metadata track");
    const auto sc = bmff::parse_full_box(in, *stsc);
    bmff::Reader stsc_reader(in, sc.body_offset, stsc->end(), "stsc");
    struct Run final {
        std::uint64_t first_chunk, samples_per_chunk;
    };
    std::vector<Run> runs(table_count(stsc_reader, 12));
    for (auto& run : runs) {
        run = {stsc_reader.read(4), stsc_reader.read(4)};
        stsc_reader.skip(4);  // sample description index
    }
    const auto co = bmff::parse_full_box(in, *stco);
    bmff::Reader chunks(in, co.body_offset, stco->end(), "stco");
    const std::uint64_t chunk_count = table_count(chunks, offset_bytes);

    std::uint64_t sample = 0, per_chunk = 0, zeroed = 0;
    std::size_t run = 0;
    for (std::uint64_t c = 1; c <= chunk_count && sample < samples; ++c) {
        while (run < runs.size() && runs[run].first_chunk <= c) per_chunk = runs[run++].samples_per_chunk;
        std::uint64_t at = chunks.read(offset_bytes);
        for (std::uint64_t k = 0; k < per_chunk && sample < samples; ++k, ++sample) {
            const std::uint64_t size = uniform != 0 ? uniform : sizes.read(4);
            if (at > in.size() || size > in.size() - at) throw FormatError("truncated BMFF: a metadata sample past the end of the file");
            if (!media.holds(at, size)) throw FormatError("BMFF: a metadata sample outside mdat");
            std::memset(&out.bytes[at], 0, static_cast<std::size_t>(size));
            at += size;
            zeroed += size;
        }
    }
    out.removed.push_back("timed metadata track: " + std::to_string(sample) + " samples (" + std::to_string(zeroed) + " bytes zeroed)");
}

void strip_movie_box(ByteView in, const Box& box, int depth, const bmff::MediaData& media, StripResult& out) {
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
            strip_movie_box(in, b, depth + 1, media, out);
            if (b.type == "trak" && is_metadata_track(in, b)) zero_samples(in, b, media, out);
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
    const bmff::MediaData media(in);
    bool first = true, content = false;
    bmff::for_each_box(in, 0, in.size(), "the file", [&](const Box& b) {
        if (first && !is_first_box(b.type)) throw FormatError("not an ISO BMFF file: first box is '" + std::string(b.type) + "'");
        first = false;
        if (b.type == "moov") {
            content = true;
            strip_movie_box(in, b, 1, media, out);
        } else if (b.type == "meta" && is_picture_meta(in, b)) {
            content = true;
            strip_heif_meta(in, b, media, out);
        } else if (is_metadata_box(b.type)) {
            bmff::neutralise(out.bytes, b);
            report(out, b, " (file level)");
        }
    });
    if (!content) throw FormatError("BMFF: no movie (moov) and no image (meta) box");
}

}  // namespace veil::exif_strip
