#include "bmff_names.hpp"

#include <algorithm>

namespace veil::exif_strip::bmff {
namespace {

// Zeroes in[begin, end) at buffer[begin + shift, end + shift); true when it held something.
bool zero_range(ByteView in, std::size_t begin, std::size_t end, Bytes& buffer, std::size_t shift) {
    const auto from = in.begin() + static_cast<std::ptrdiff_t>(begin), to = in.begin() + static_cast<std::ptrdiff_t>(end);
    if (std::all_of(from, to, [](std::uint8_t v) { return v == 0; })) return false;
    std::fill_n(buffer.begin() + static_cast<std::ptrdiff_t>(begin + shift), end - begin, std::uint8_t{0});
    return true;
}

// Sample entry fields before a tmcd entry's children: reserved (6), data reference index (2),
// reserved (4), flags (4), timescale (4), frame duration (4), frame count (1), reserved (1).
constexpr std::size_t tmcd_fields = 26;

}  // namespace

std::size_t clear_data_references(ByteView in, const Box& dinf, Bytes& buffer, std::size_t at) {
    const std::size_t shift = at - dinf.offset;  // unsigned wrap-around: begin + shift == the output position
    std::size_t cleared = 0;
    for_each_box(in, dinf.payload_offset(), dinf.end(), "dinf", [&](const Box& dref) {
        if (dref.type != "dref") return;
        const auto fb = parse_full_box(in, dref);
        Reader r(in, fb.body_offset, dref.end(), "dref");
        r.skip(4);  // entry count: the boxes themselves are what counts
        for_each_box(in, r.pos(), dref.end(), "dref", [&](const Box& entry) {
            // Every entry ('url ', 'urn ', 'alis', 'rsrc', ...) is a full box: its flags (bit 0:
            // the media is in this file) stay; a location or alias after them is zeroed.
            if (entry.payload_size() > 4 && zero_range(in, entry.payload_offset() + 4, entry.end(), buffer, shift)) ++cleared;
        });
    });
    return cleared;
}

std::size_t clear_reel_names(ByteView in, const Box& stsd, Bytes& buffer) {
    const auto fb = parse_full_box(in, stsd);
    Reader r(in, fb.body_offset, stsd.end(), "stsd");
    r.skip(4);  // entry count
    std::size_t cleared = 0;
    for_each_box(in, r.pos(), stsd.end(), "stsd", [&](const Box& entry) {
        if (entry.type != "tmcd" || entry.payload_size() <= tmcd_fields) return;
        for_each_box(in, entry.payload_offset() + tmcd_fields, entry.end(), "tmcd", [&](const Box& child) {
            if (zero_range(in, child.payload_offset(), child.end(), buffer, 0)) ++cleared;
        });
    });
    return cleared;
}

}  // namespace veil::exif_strip::bmff
