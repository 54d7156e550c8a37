#include "bmff_strip.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <set>
#include <optional>
#include <vector>
#include <string>

#include "bmff_box.hpp"
#include "bmff_movie_boxes.hpp"
#include "bmff_names.hpp"
#include "heif_strip.hpp"

namespace veil::exif_strip {
namespace {

using bmff::Box;

constexpr std::uint64_t max_samples = 1 << 24;  // bounds work on a hostile sample table

// Boxes that hold only descriptive metadata (user data, iTunes/QuickTime keys and items such
// as ©xyz and com.apple.quicktime.location.ISO6709, XMP and vendor uuid boxes), wall-clock
// times and events of fragmented files (prft: producer reference time; emsg: ID3 and other
// events) and vendor GPS indexes (Novatek dash cams: 'gps ' in moov).
bool is_metadata_box(std::string_view type) {
    return type == "udta" || type == "meta" || type == "uuid" || type == "XMP_" || type == "prft" || type == "emsg" || type == "gps ";
}

// free/skip boxes are ignored by players, but a vendor may hide data in them (Novatek dash cams
// put their GPS fixes in top-level free boxes): their content is zeroed, reported if not empty.
void clear_free(StripResult& out, const Box& b) {
    const auto payload = ByteView(out.bytes).subspan(b.payload_offset(), b.payload_size());
    if (std::all_of(payload.begin(), payload.end(), [](std::uint8_t v) { return v == 0; })) return;
    bmff::neutralise(out.bytes, b);
    out.removed.push_back("content of a " + std::string(b.type) + " box (" + std::to_string(b.size) + " bytes)");
}

// Containers walked for metadata boxes, times and chunk offsets.
bool is_movie_container(std::string_view type) {
    return type == "moov" || type == "trak" || type == "mdia" || type == "minf" || type == "stbl" || type == "edts" ||
           type == "mvex" || type == "moof" || type == "traf" || type == "mfra";
}

void report(StripResult& out, const Box& b, const char* what) {
    out.removed.push_back(std::string(b.type) + what + " (" + std::to_string(b.size) + " bytes)");
}

// Zeroes what a kept box holds after its defined fields (`defined` bytes after version and
// flags): no reader looks there, so a writer could leave text (inside mvhd, elst, hdlr).
void zero_tail(const Box& b, const bmff::FullBox& fb, std::uint64_t defined, StripResult& out, const char* what) {
    if (b.end() - fb.body_offset <= defined) return;
    const auto tail = ByteView(out.bytes).subspan(fb.body_offset + defined, b.end() - fb.body_offset - defined);
    if (std::all_of(tail.begin(), tail.end(), [](std::uint8_t v) { return v == 0; })) return;
    std::memset(&out.bytes[fb.body_offset + defined], 0, tail.size());
    out.removed.push_back(std::string(what) + " (" + std::string(b.type) + ", " + std::to_string(tail.size()) + " bytes zeroed)");
}

// mvhd/tkhd/mdhd: creation and modification times zeroed (32-bit in version 0, 64 in 1), and
// anything after their fixed fields (ISO/IEC 14496-12 8.2.2, 8.3.2, 8.4.2).
void zero_times(ByteView in, const Box& b, StripResult& out) {
    const auto fb = bmff::parse_full_box(in, b);
    if (fb.version > 1) throw FormatError("BMFF: unknown " + std::string(b.type) + " version");
    const std::size_t n = fb.version == 1 ? 16 : 8;
    if (b.end() - fb.body_offset < n) throw FormatError("truncated BMFF: " + std::string(b.type));
    std::memset(&out.bytes[fb.body_offset], 0, n);
    const std::uint64_t defined = b.type == "mvhd" ? 96 : b.type == "tkhd" ? 80 : 20;
    zero_tail(b, fb, defined + (fb.version == 1 ? 12 : 0), out, "bytes after the defined fields");
}

// elst: its entries (12 or 20 bytes each) are kept, anything after them zeroed.
void clear_edit_list_tail(ByteView in, const Box& b, StripResult& out) {
    const auto fb = bmff::parse_full_box(in, b);
    bmff::Reader r(in, fb.body_offset, b.end(), "elst");
    const std::uint64_t count = r.read(4);
    const std::uint64_t entry = fb.version == 1 ? 20 : 12;
    if (count > r.left() / entry) throw FormatError("truncated BMFF: elst");
    zero_tail(b, fb, 4 + count * entry, out, "bytes after the defined fields");
}

// A track's handler name (after pre_defined, handler type and 12 reserved bytes; a C string in
// MP4, a Pascal string in QuickTime) is free text cameras fill with their name: zeroed in place,
// which reads as an empty name in both.
void clear_handler_name(ByteView in, const Box& b, StripResult& out) {
    const auto fb = bmff::parse_full_box(in, b);
    if (b.end() - fb.body_offset < 20) throw FormatError("truncated BMFF: hdlr");
    zero_tail(b, fb, 20, out, "name of a track handler");
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

// A track whose samples are not picture or sound is zeroed (an allow-list: vide, soun, auxv
// such as a depth or alpha map, pict). The rest carry text or telemetry: timed metadata (meta:
// GPS fixes, GoPro gpmd, mebx; camm; tmcd: often the time of day), timed text and data that
// drones and dash cams fill (sbtl, text, data, ctbx), subtitles and captions (subt, subp, clcp,
// ttml, lyrc), and hint tracks (RTP packetisation with immediate data; no player needs them).
// A track without a handler (invalid: no player knows what to draw) is left as it is.
bool is_metadata_track(ByteView in, const Box& trak) {
    const auto mdia = child(in, trak, "mdia");
    const auto hdlr = mdia ? child(in, *mdia, "hdlr") : std::nullopt;
    if (!hdlr || hdlr->payload_size() < 12) return false;
    const std::string_view handler(reinterpret_cast<const char*>(&in[hdlr->payload_offset() + 8]), 4);
    return handler != "vide" && handler != "soun" && handler != "auxv" && handler != "pict";
}

// Reads a full box's u32 entry count and checks that `entry_bytes` each fit in it.
std::uint64_t table_count(bmff::Reader& r, std::size_t entry_bytes) {
    const std::uint64_t count = r.read(4);
    if (count > r.left() / entry_bytes) throw FormatError("truncated BMFF: sample table");
    return count;
}

// Zeroes every sample of a timed metadata track, found through stsz, stsc and stco/co64.
void zero_samples(ByteView in, const Box& trak, bmff::Zeroer& zeroer) {
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

    // The samples of a chunk are contiguous: one zeroing per chunk, never one per sample.
    std::uint64_t sample = 0, per_chunk = 0, zeroed = 0;
    std::size_t run = 0;
    for (std::uint64_t c = 1; c <= chunk_count && sample < samples; ++c) {
        while (run < runs.size() && runs[run].first_chunk <= c) per_chunk = runs[run++].samples_per_chunk;
        const std::uint64_t at = chunks.read(offset_bytes);
        const std::uint64_t n = std::min(per_chunk, samples - sample);
        std::uint64_t size = n * uniform;  // n <= 2^24, uniform < 2^32: no overflow
        if (uniform == 0) {
            for (std::uint64_t k = 0; k < n; ++k) size += sizes.read(4);
        }
        if (n != 0) zeroer.zero(at, size);
        sample += n;
        zeroed += size;
    }
    zeroer.out().removed.push_back("timed metadata track: " + std::to_string(sample) + " samples (" + std::to_string(zeroed) + " bytes zeroed)");
}

// A Novatek dash cam's 'gps ' index in moov (version, a word, a u32 count, then (offset, size)
// u32 pairs) points at its 'freeGPS ' blocks (time, position, speed) inside the mdat payload:
// each indexed range is zeroed through the Zeroer (inside one mdat, charged to its budget)
// before the index itself is neutralised.
void zero_novatek_gps(ByteView in, const Box& index, bmff::Zeroer& zeroer) {
    bmff::Reader r(in, index.payload_offset(), index.end(), "gps ");
    r.skip(8);
    const std::uint64_t count = table_count(r, 8);
    std::uint64_t zeroed = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t at = r.read(4);
        const std::uint64_t size = r.read(4);
        if (at == 0 || size == 0) continue;  // an unused slot
        zeroer.zero(at, size);
        zeroed += size;
    }
    if (zeroed != 0) zeroer.out().removed.push_back("Novatek GPS blocks in mdat (" + std::to_string(zeroed) + " bytes zeroed)");
}

// What movie fragments need from the movie box: which tracks are timed metadata, and the
// default sample sizes of every track (trex), since a fragment may give no size of its own.
struct MovieTracks final {
    bool seen = false;              // a moov came before
    bool unnamed_metadata = false;  // a metadata track without tkhd: fragments cannot name it
    std::set<std::uint32_t> metadata;
    std::map<std::uint32_t, std::uint64_t> default_size;
};

std::optional<std::uint32_t> track_id(ByteView in, const Box& trak) {
    const auto tkhd = child(in, trak, "tkhd");
    if (!tkhd) return std::nullopt;
    const auto fb = bmff::parse_full_box(in, *tkhd);
    bmff::Reader r(in, fb.body_offset, tkhd->end(), "tkhd");
    r.skip(fb.version == 1 ? 16 : 8);
    return static_cast<std::uint32_t>(r.read(4));
}

void read_trex(ByteView in, const Box& trex, MovieTracks& tracks) {
    const auto fb = bmff::parse_full_box(in, trex);
    bmff::Reader r(in, fb.body_offset, trex.end(), "trex");
    const auto id = static_cast<std::uint32_t>(r.read(4));
    r.skip(8);  // sample description index, duration
    if (const auto size = r.read(4); size != 0) tracks.default_size[id] = size;  // 0: each fragment gives sizes
}

void strip_movie_box(ByteView in, const Box& box, int depth, bmff::Zeroer& zeroer, MovieTracks& tracks) {
    if (depth > bmff::max_depth) throw FormatError("BMFF: boxes nested too deeply");
    StripResult& out = zeroer.out();
    bmff::for_each_box(in, box.payload_offset(), box.end(), box.type, [&](const Box& b) {
        if (is_metadata_box(b.type)) {
            if (b.type == "gps ") zero_novatek_gps(in, b, zeroer);
            bmff::neutralise(out.bytes, b);
            report(out, b, "");
        } else if (b.type == "free" || b.type == "skip") {
            clear_free(out, b);
        } else if (b.type == "mvhd" || b.type == "tkhd" || b.type == "mdhd") {
            zero_times(in, b, out);
        } else if (b.type == "elst") {
            clear_edit_list_tail(in, b, out);
        } else if (b.type == "hdlr" && bmff::is_playback_child(box.type, b.type)) {
            clear_handler_name(in, b, out);
        } else if (b.type == "stco" || b.type == "co64") {
            check_chunk_offsets(in, b);
        } else if (b.type == "trex") {
            read_trex(in, b, tracks);
        } else if (b.type == "dinf") {
            if (const auto n = bmff::clear_data_references(in, b, out.bytes, b.offset))
                out.removed.push_back(std::to_string(n) + " data reference(s): file location or alias (dref)");
        } else if (b.type == "stsd") {
            if (const auto n = bmff::clear_reel_names(in, b, out.bytes)) out.removed.push_back(std::to_string(n) + " timecode reel name(s) (tmcd)");
        } else if (is_movie_container(b.type)) {
            strip_movie_box(in, b, depth + 1, zeroer, tracks);
            if (b.type == "trak" && is_metadata_track(in, b)) {
                if (const auto id = track_id(in, b)) {
                    tracks.metadata.insert(*id);
                } else {
                    tracks.unnamed_metadata = true;
                }
                zero_samples(in, b, zeroer);
            }
        } else if (!bmff::is_playback_child(box.type, b.type)) {
            bmff::neutralise(out.bytes, b);
            out.removed.push_back(std::string(b.type) + " (unknown box in " + std::string(box.type) + ", " + std::to_string(b.size) + " bytes)");
        }
    });
}

constexpr std::uint64_t unknown_end = ~std::uint64_t{0};

// One track fragment's sample data (tfhd, then each trun, ISO/IEC 14496-12 8.8.7-8.8.8): zeroed
// when the track is timed metadata. `data_end` is where the previous fragment's data ended (the
// implicit base of a traf without base_data_offset or default-base-is-moof); it is advanced.
void zero_fragment_samples(ByteView in, const Box& moof, const Box& traf, const MovieTracks& tracks, std::uint64_t& data_end,
                           bmff::Zeroer& zeroer) {
    const auto tfhd = child(in, traf, "tfhd");
    if (!tfhd) throw FormatError("BMFF: track fragment without tfhd");
    const auto hd = bmff::parse_full_box(in, *tfhd);
    bmff::Reader h(in, hd.body_offset, tfhd->end(), "tfhd");
    const auto id = static_cast<std::uint32_t>(h.read(4));
    std::uint64_t base = (hd.flags & 0x20000) != 0 ? moof.offset : data_end;  // unknown_end if unknown
    if ((hd.flags & 0x1) != 0) base = h.read(8);
    if ((hd.flags & 0x2) != 0) h.skip(4);  // sample description index
    if ((hd.flags & 0x8) != 0) h.skip(4);  // default duration
    std::optional<std::uint64_t> default_size;
    if ((hd.flags & 0x10) != 0) {
        default_size = h.read(4);
    } else if (const auto t = tracks.default_size.find(id); t != tracks.default_size.end()) {
        default_size = t->second;
    }
    const bool metadata = tracks.metadata.count(id) != 0;
    std::uint64_t next = base;
    bmff::for_each_box(in, traf.payload_offset(), traf.end(), "traf", [&](const Box& b) {
        if (b.type != "trun") return;
        const auto fb = bmff::parse_full_box(in, b);
        bmff::Reader r(in, fb.body_offset, b.end(), "trun");
        const std::uint64_t count = r.read(4);
        std::uint64_t at = next;
        if ((fb.flags & 0x1) != 0) {
            const auto offset = static_cast<std::int32_t>(r.read(4));
            if (base == unknown_end) throw FormatError("BMFF: a fragment's data follows samples of unknown size");
            if (offset < 0 && base < static_cast<std::uint64_t>(-static_cast<std::int64_t>(offset))) throw FormatError("BMFF: a fragment's data before the file");
            at = base + static_cast<std::uint64_t>(static_cast<std::int64_t>(offset));
        }
        if ((fb.flags & 0x4) != 0) r.skip(4);  // first sample flags
        const std::size_t entry_bytes = 4 * static_cast<std::size_t>(std::popcount(fb.flags & 0xF00u));
        std::uint64_t total = 0;
        if ((fb.flags & 0x200) != 0) {
            if (count > r.left() / entry_bytes) throw FormatError("truncated BMFF: trun");
            for (std::uint64_t i = 0; i < count; ++i) {
                if ((fb.flags & 0x100) != 0) r.skip(4);
                total += r.read(4);
                r.skip(entry_bytes - 4 - ((fb.flags & 0x100) != 0 ? 4 : 0));
            }
        } else if (default_size) {
            if (entry_bytes != 0 && count > r.left() / entry_bytes) throw FormatError("truncated BMFF: trun");
            if (*default_size != 0 && count > in.size() / *default_size) throw FormatError("truncated BMFF: a fragment's samples past the end of the file");
            total = count * *default_size;
        } else if (metadata) {
            throw FormatError("BMFF: a metadata track fragment without sample sizes");
        } else {
            next = unknown_end;  // a later traf cannot rely on where this data ends
            return;
        }
        if (at == unknown_end && (metadata || total != 0)) throw FormatError("BMFF: a fragment's data follows samples of unknown size");
        if (at > in.size() || total > in.size() - at) throw FormatError("truncated BMFF: a fragment's samples past the end of the file");
        if (metadata) zeroer.zero(at, total);
        next = at + total;
    });
    data_end = next;
    if (metadata) zeroer.out().removed.push_back("timed metadata track fragment");
}

// A movie fragment (moof): metadata boxes as in moov, and the samples of metadata tracks.
void strip_fragment(ByteView in, const Box& moof, bmff::Zeroer& zeroer, MovieTracks& tracks) {
    if (!tracks.seen) throw FormatError("BMFF: a movie fragment without a movie box before it (its metadata tracks cannot be told apart)");
    if (tracks.unnamed_metadata) throw FormatError("BMFF: a movie fragment of a file whose metadata track has no tkhd");
    strip_movie_box(in, moof, 1, zeroer, tracks);
    std::uint64_t data_end = moof.offset;
    bmff::for_each_box(in, moof.payload_offset(), moof.end(), "moof", [&](const Box& b) {
        if (b.type == "traf") zero_fragment_samples(in, moof, b, tracks, data_end, zeroer);
    });
}

// Top-level boxes a player or decoder needs, copied as they are (moov, moof, mfra and a picture
// meta are walked, free/skip cleared). Every other top-level box is neutralised: vendors put
// metadata there (Samsung sefd: capture time, SIM country; mpvd: a motion photo's MP4 with its
// GPS; dash cams: 'GPS ', gdat, gps0, udat, nbmt, cust, inst; thum: a thumbnail).
bool is_playback_box(std::string_view type) {
    return type == "ftyp" || type == "mdat" || type == "styp" || type == "sidx" || type == "ssix" || type == "pdin" ||
           type == "wide";
}

// A QuickTime file from before 'ftyp' starts with one of these.
bool is_first_box(std::string_view type) {
    if (type == "styp") throw FormatError("BMFF: a media segment (styp) without its movie box: its metadata tracks cannot be told apart");
    return type == "ftyp" || type == "moov" || type == "mdat" || type == "wide" || type == "free" || type == "skip";
}

}  // namespace

void strip_bmff(ByteView in, const StripOptions& /*options*/, StripResult& out) {
    out.clear();
    out.bytes.assign(in.begin(), in.end());
    bmff::Zeroer zeroer(in, out);
    MovieTracks tracks;
    bool first = true, content = false;
    bmff::for_each_box(in, 0, in.size(), "the file", [&](const Box& b) {
        if (first && !is_first_box(b.type)) throw FormatError("not an ISO BMFF file: first box is '" + std::string(b.type) + "'");
        first = false;
        if (b.type == "moov") {
            content = tracks.seen = true;
            strip_movie_box(in, b, 1, zeroer, tracks);
        } else if (b.type == "moof") {
            strip_fragment(in, b, zeroer, tracks);
        } else if (b.type == "mfra") {
            strip_movie_box(in, b, 1, zeroer, tracks);
        } else if (b.type == "meta" && is_picture_meta(in, b)) {
            content = true;
            strip_heif_meta(in, b, zeroer);
        } else if (is_metadata_box(b.type)) {
            bmff::neutralise(out.bytes, b);
            report(out, b, " (file level)");
        } else if (b.type == "free" || b.type == "skip") {
            clear_free(out, b);
        } else if (!is_playback_box(b.type)) {
            bmff::neutralise(out.bytes, b);
            report(out, b, " (unknown file-level box)");
        }
    });
    if (!content) throw FormatError("BMFF: no movie (moov) and no image (meta) box");
    out.zeroing_steps = zeroer.steps();
}

}  // namespace veil::exif_strip
