#pragma once
// ISO BMFF (ISO/IEC 14496-12) box walking, shared by the HEIF and MP4/MOV strippers. Every
// size is checked against its container: a box that runs past its parent is a FormatError.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strip_types.hpp"

namespace veil::exif_strip::bmff {

/// Nesting deeper than this is refused (real files stay under 10 levels).
inline constexpr int max_depth = 16;
/// More boxes than this in one container is refused (bounds work on hostile input).
inline constexpr std::size_t max_boxes_per_container = 100000;

/// One box inside a buffer: offsets are relative to the start of that buffer.
struct Box final {
    std::string_view type;        ///< four characters
    std::size_t offset = 0;       ///< where the box starts
    std::size_t header_size = 0;  ///< 8, 16 with a 64-bit size, +16 for 'uuid'
    std::size_t size = 0;         ///< header and payload
    [[nodiscard]] std::size_t payload_offset() const { return offset + header_size; }
    [[nodiscard]] std::size_t payload_size() const { return size - header_size; }
    [[nodiscard]] std::size_t end() const { return offset + size; }
};

/// Parses the box starting at `at` within [0, end) of data. `where` names the container in
/// errors. Throws FormatError when the header or the box runs past `end`.
Box parse_box(ByteView data, std::size_t at, std::size_t end, std::string_view where);

/// Calls f(const Box&) for each box in [begin, end) of data, in order. Throws FormatError on a
/// truncated or bad box, or on more than max_boxes_per_container boxes.
template <typename F>
void for_each_box(ByteView data, std::size_t begin, std::size_t end, std::string_view where, F&& f) {
    std::size_t count = 0;
    for (std::size_t at = begin; at < end;) {
        if (++count > max_boxes_per_container) throw FormatError("BMFF: too many boxes in " + std::string(where));
        const Box box = parse_box(data, at, end, where);
        f(box);
        at = box.end();
    }
}

/// The payload of a full box after its version and flags; throws when it is shorter than 4.
struct FullBox final {
    std::uint8_t version = 0;
    std::uint32_t flags = 0;
    std::size_t body_offset = 0;  ///< first byte after version/flags
};
FullBox parse_full_box(ByteView data, const Box& box);

/// Reads unsigned big-endian integers of 0, 1, 2, 4 or 8 bytes from a bounded range;
/// throws FormatError("truncated <where>") past its end.
class Reader final {
public:
    /// `where` names the table in errors; it must outlive the reader (a literal, a box type).
    Reader(ByteView data, std::size_t begin, std::size_t end, std::string_view where)
        : data_(data), pos_(begin), end_(end), where_(where) {}
    std::uint64_t read(std::size_t bytes);
    void skip(std::size_t bytes);
    /// A NUL-terminated string (the NUL consumed); throws when no NUL is found.
    std::string_view read_cstring();
    [[nodiscard]] std::size_t pos() const { return pos_; }
    [[nodiscard]] std::size_t left() const { return end_ - pos_; }

private:
    ByteView data_;
    std::size_t pos_, end_;
    std::string_view where_;
};

/// The payloads of the top-level 'mdat' boxes, in file order (so sorted and disjoint): the only
/// bytes a stripper zeroes outside the boxes it rewrites (so a hostile table cannot make it
/// overwrite the file's structure). A lookup is a binary search, however many mdats there are.
class MediaData final {
public:
    explicit MediaData(ByteView file);
    /// True when [begin, begin + length) lies inside one mdat payload. Adds its steps to `steps`.
    [[nodiscard]] bool holds(std::uint64_t begin, std::uint64_t length, std::uint64_t& steps) const;

private:
    std::vector<std::pair<std::size_t, std::size_t>> payloads_;  // [begin, end), ascending
};

/// Zeroes removed metadata in the stripped copy with bounded work, whatever the tables say: each
/// zeroing costs its bytes plus 4 (the smallest table entry that can describe a range: a chunk
/// offset, an item extent), and all of them together may not cost more than the file's size.
/// Real ranges never overlap and their table entries lie outside them, so a real file fits.
class Zeroer final {
public:
    /// `out.bytes` is the stripped copy of `in` (same size) the ranges are zeroed in.
    Zeroer(ByteView in, StripResult& out);
    /// Checks and charges [at, at + size), which must lie inside one mdat payload; zeroes it.
    void zero(std::uint64_t at, std::uint64_t size);
    /// Checks and charges a range of mdat to be zeroed later (once the tables are rewritten).
    void check(std::uint64_t at, std::uint64_t size);
    /// Charges the zeroing of `size` bytes the caller has bounds-checked (item data in idat).
    void charge(std::uint64_t size);
    /// Zeroings and mdat lookup steps done so far (tests bound the work of hostile files).
    [[nodiscard]] std::uint64_t steps() const { return steps_; }
    [[nodiscard]] StripResult& out() { return out_; }

private:
    ByteView in_;
    StripResult& out_;
    MediaData media_;
    std::uint64_t budget_, steps_ = 0;
};

/// Appends v as `bytes` big-endian bytes.
void append_be(Bytes& out, std::uint64_t v, std::size_t bytes);
/// Overwrites a box in place with a 'free' box of the same size: type renamed, payload zeroed.
void neutralise(Bytes& buffer, const Box& box);

}  // namespace veil::exif_strip::bmff
