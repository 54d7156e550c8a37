// TIFF stripping: hand-built files (tags kept and dropped, offsets rewritten, refusals) and the
// corpus (every truncation refused, idempotent output).

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "test_support.hpp"
#include "tiff_strip.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

// A little-endian TIFF builder: entries are (tag, type, count, inline value or offset).
struct Ifd final {
    struct E {
        std::uint16_t tag, type;
        std::uint32_t count, value;
    };
    std::vector<E> entries;
    std::uint32_t next = 0;
};

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Writes ifd at offset `at` of b (grown as needed).
void write_ifd(Bytes& b, std::size_t at, const Ifd& ifd) {
    b.resize(std::max(b.size(), at + 6 + 12 * ifd.entries.size()));
    put16(b, at, static_cast<std::uint16_t>(ifd.entries.size()));
    for (std::size_t i = 0; i < ifd.entries.size(); ++i) {
        const auto& e = ifd.entries[i];
        const std::size_t p = at + 2 + 12 * i;
        put16(b, p, e.tag);
        put16(b, p + 2, e.type);
        put32(b, p + 4, e.count);
        put32(b, p + 8, e.value);
    }
    put32(b, at + 2 + 12 * ifd.entries.size(), ifd.next);
}

// A 4x2 greyscale picture (8 pixel bytes at offset 8) with Artist (ASCII at 16), GPS IFD
// pointer (GPS IFD at 240), XMP (at 32), orientation 6; IFD0 at 64.
Bytes tiny_tiff() {
    Bytes b(64, 0);
    b[0] = b[1] = 'I';
    put16(b, 2, 42);
    put32(b, 4, 64);
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(0x10 * i + 1);
    const std::string artist = "Alice Example";
    std::copy(artist.begin(), artist.end(), b.begin() + 16);
    const std::string xmp = "<x:xmpmeta>Paris</x:xmpmeta>";
    std::copy(xmp.begin(), xmp.end(), b.begin() + 32);
    write_ifd(b, 64, Ifd{{{256, 3, 1, 4},
                          {257, 3, 1, 2},
                          {258, 3, 1, 8},
                          {259, 3, 1, 1},
                          {262, 3, 1, 1},
                          {273, 4, 1, 8},
                          {274, 3, 1, 6},
                          {278, 3, 1, 2},
                          {279, 4, 1, 8},
                          {315, 2, 14, 16},
                          {700, 1, static_cast<std::uint32_t>(xmp.size()), 32},
                          {34853, 4, 1, 240}},
                         0});
    write_ifd(b, 240, Ifd{{{1, 2, 2, 'N'}}, 0});  // a GPS IFD: latitude ref N
    return b;
}

bool contains(ByteView hay, const std::string& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

std::string refusal(ByteView in) {
    StripResult r;
    try {
        strip_tiff(in, StripOptions{}, r);
    } catch (const FormatError& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("tiff - keeps what draws the page, drops the rest, pixel bytes identical", "[attachments]") {
    const Bytes in = tiny_tiff();
    StripResult r;
    strip_tiff(in, StripOptions{}, r);
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK_FALSE(contains(r.bytes, "Paris"));
    CHECK(r.orientation == 6);
    CHECK(r.orientation_kept);
    const std::vector<std::string> removed_want{"page 1: Artist", "page 1: GPS IFD", "page 1: XMP"};
    CHECK(r.removed == removed_want);
    // Header, then the strip, then the IFD with 9 entries whose StripOffsets points at it.
    REQUIRE(r.bytes.size() >= 8 + 8 + 2 + 9 * 12 + 4);
    CHECK(std::equal(in.begin() + 8, in.begin() + 16, r.bytes.begin() + 8));
    CHECK(r.bytes[4] == 16);           // IFD0 right after the strip
    CHECK(r.bytes[16] == 9);           // entries kept
    CHECK(r.bytes.size() == 16 + 2 + 9 * 12 + 4);
    StripResult again;
    strip_tiff(r.bytes, StripOptions{}, again);
    CHECK(again.bytes == r.bytes);
    CHECK(again.removed.empty());
}

TEST_CASE("tiff - orientation dropped on request", "[attachments]") {
    StripResult r;
    strip_tiff(tiny_tiff(), StripOptions{OrientationMode::drop}, r);
    CHECK(r.orientation == 6);
    CHECK_FALSE(r.orientation_kept);
    CHECK(r.bytes[16] == 8);
    CHECK(std::find(r.removed.begin(), r.removed.end(), "page 1: Orientation") != r.removed.end());
}

TEST_CASE("tiff - refuses what it cannot rewrite safely, with a clear error", "[attachments]") {
    Bytes big = tiny_tiff();
    put16(big, 2, 43);
    CHECK(refusal(big).find("BigTIFF") != std::string::npos);
    Bytes loop = tiny_tiff();
    put32(loop, 64 + 2 + 12 * 12, 64);  // IFD0's next is IFD0
    CHECK(refusal(loop).find("loops") != std::string::npos);
    Bytes strip_out = tiny_tiff();
    put32(strip_out, 64 + 2 + 12 * 5 + 8, 5000);  // StripOffsets past the end
    CHECK(refusal(strip_out).find("image data past the end") != std::string::npos);
    Bytes xmp_out = tiny_tiff();
    put32(xmp_out, 64 + 2 + 12 * 10 + 8, 5000);  // a dropped tag's value past the end
    CHECK(refusal(xmp_out).find("XMP value past the end") != std::string::npos);
    Bytes gps_out = tiny_tiff();
    put32(gps_out, 64 + 2 + 12 * 11 + 8, 5000);  // GPS IFD past the end
    CHECK(refusal(gps_out).find("IFD past the end") != std::string::npos);
    Bytes gps_none = tiny_tiff();
    put32(gps_none, 64 + 2 + 12 * 11 + 8, 0);  // a GPS pointer of 0 means none (some writers)
    CHECK(refusal(gps_none) == "accepted");
    Bytes no_strips = tiny_tiff();
    put16(no_strips, 64 + 2 + 12 * 5, 999);  // StripOffsets becomes an unknown tag
    CHECK(refusal(no_strips).find("without strip") != std::string::npos);
    Bytes dng = tiny_tiff();
    put16(dng, 64 + 2 + 12 * 11, 50706);
    CHECK(refusal(dng).find("DNG") != std::string::npos);
    Bytes old_jpeg = tiny_tiff();
    put32(old_jpeg, 64 + 2 + 12 * 3 + 8, 6);
    CHECK(refusal(old_jpeg).find("compression 6") != std::string::npos);
    Bytes shared = tiny_tiff();  // 3 pages drawing the whole file: bytes referenced more than once
    shared.resize(400);
    put32(shared, 64 + 2 + 12 * 12, 300);
    write_ifd(shared, 300, Ifd{{{256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, 0}, {279, 4, 1, 400}}, 350});
    write_ifd(shared, 350, Ifd{{{256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, 0}, {279, 4, 1, 400}}, 0});
    CHECK(refusal(shared).find("referenced more than once") != std::string::npos);
    CHECK(refusal(Bytes{'I', 'I', 42, 0, 0, 0, 0, 0}).find("no image") != std::string::npos);
    CHECK(refusal(Bytes{'I', 'I', 42, 0}).find("truncated") != std::string::npos);
}

TEST_CASE("tiff - every truncation of a corpus TIFF is refused", "[attachments]") {
    for (const auto& file : corpus_files("tiff")) {
        const Bytes full = read_file(file);
        for (std::size_t len = 0; len < full.size(); len += (len < 400 ? 1 : 7)) {
            INFO(file.filename().string() << " cut at " << len);
            StripResult r;
            CHECK_THROWS_AS(strip_tiff(ByteView(full).first(len), StripOptions{}, r), FormatError);
        }
    }
}

TEST_CASE("tiff - corpus output strips again to the same bytes, every page kept", "[attachments]") {
    for (const auto& file : corpus_files("tiff")) {
        INFO(file.filename().string());
        StripResult first, second;
        strip_tiff(read_file(file), StripOptions{}, first);
        strip_tiff(first.bytes, StripOptions{}, second);
        CHECK(second.bytes == first.bytes);
        CHECK(second.removed.empty());
        CHECK(first.bytes.size() < read_file(file).size());
    }
}

namespace {
// tiny_tiff with a second page at 300: a 4x2 reduced-resolution copy (NewSubfileType 1 or the
// old SubfileType 2) whose pixels (at 400) read "THUMBPIX".
Bytes with_reduced_page(std::uint16_t tag, std::uint32_t value) {
    Bytes b = tiny_tiff();
    b.resize(408);
    put32(b, 64 + 2 + 12 * 12, 300);
    write_ifd(b, 300, Ifd{{{tag, 4, 1, value}, {256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, 400}, {279, 4, 1, 8}}, 0});
    const std::string thumb = "THUMBPIX";
    std::copy(thumb.begin(), thumb.end(), b.begin() + 400);
    return b;
}
}  // namespace

TEST_CASE("tiff - reduced-resolution pages (thumbnails of the original) are dropped, full pages kept", "[attachments]") {
    for (const auto& [tag, value] : {std::pair<std::uint16_t, std::uint32_t>{254, 1}, {254, 5}, {255, 2}}) {
        INFO("tag " << tag << " = " << value);
        StripResult r;
        strip_tiff(with_reduced_page(tag, value), StripOptions{}, r);
        CHECK_FALSE(contains(r.bytes, "THUMBPIX"));
        CHECK(std::find(r.removed.begin(), r.removed.end(), "1 reduced-resolution page(s) (thumbnails)") != r.removed.end());
        CHECK(r.bytes[4] == 16);  // one page, as tiny_tiff alone gives
        CHECK(r.bytes.size() == 16 + 2 + 9 * 12 + 4);
    }
    // A mask page (NewSubfileType bit 2 only) is a full page: kept.
    StripResult mask;
    strip_tiff(with_reduced_page(254, 4), StripOptions{}, mask);
    CHECK(contains(mask.bytes, "THUMBPIX"));
    // The reduced page first (IFD0), the full one after it: the full one is page 1.
    Bytes first = with_reduced_page(254, 1);
    put32(first, 4, 300);
    put32(first, 300 + 2 + 12 * 5, 64);
    put32(first, 64 + 2 + 12 * 12, 0);
    StripResult r;
    strip_tiff(first, StripOptions{}, r);
    CHECK_FALSE(contains(r.bytes, "THUMBPIX"));
    CHECK(r.orientation_kept);
}

TEST_CASE("tiff - only reduced pages (NEF/PEF-like raw: IFD0 a thumbnail, the raw in SubIFDs) is refused", "[attachments]") {
    Bytes raw = with_reduced_page(254, 1);
    put32(raw, 4, 300);  // IFD0 is the thumbnail; tiny_tiff's page becomes its SubIFD
    write_ifd(raw, 300, Ifd{{{254, 4, 1, 1}, {256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, 400}, {279, 4, 1, 8}, {330, 4, 1, 64}}, 0});
    raw.resize(std::max<std::size_t>(raw.size(), 408));
    CHECK(refusal(raw).find("only reduced-resolution pages") != std::string::npos);
    // Compression 6 written as a LONG is old-style JPEG too.
    Bytes old_jpeg = tiny_tiff();
    put16(old_jpeg, 64 + 2 + 12 * 3 + 2, 4);
    put32(old_jpeg, 64 + 2 + 12 * 3 + 8, 6);
    CHECK(refusal(old_jpeg).find("compression 6") != std::string::npos);
}

TEST_CASE("tiff - JPEGTables is kept without its APPn and COM segments", "[attachments]") {
    // tiny_tiff with Compression 7 and JPEGTables at 300: SOI, APP1 "Exif Alice", DQT, COM, EOI.
    const Bytes tables = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0C, 'E', 'x', 'i', 'f', ' ', 'A', 'l', 'i', 'c', 'e',
                          0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xFE, 0x00, 0x05, 'B', 'o', 'b', 0xFF, 0xD9};
    Bytes in = tiny_tiff();
    in.resize(300 + tables.size());
    std::copy(tables.begin(), tables.end(), in.begin() + 300);
    // Replace the GPS IFD pointer (entry 11) by JPEGTables; keep entries sorted for readers.
    put16(in, 64 + 2 + 12 * 11, 347);
    put16(in, 64 + 2 + 12 * 11 + 2, 7);
    put32(in, 64 + 2 + 12 * 11 + 4, static_cast<std::uint32_t>(tables.size()));
    put32(in, 64 + 2 + 12 * 11 + 8, 300);
    StripResult r;
    strip_tiff(in, StripOptions{}, r);
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK_FALSE(contains(r.bytes, "Bob"));
    const Bytes want = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xD9};
    CHECK(std::search(r.bytes.begin(), r.bytes.end(), want.begin(), want.end()) != r.bytes.end());
    CHECK(std::find(r.removed.begin(), r.removed.end(), "page 1: APPn/COM in JPEGTables") != r.removed.end());
    StripResult again;
    strip_tiff(r.bytes, StripOptions{}, again);
    CHECK(again.bytes == r.bytes);
    Bytes cut = in;
    put32(cut, 64 + 2 + 12 * 11 + 4, static_cast<std::uint32_t>(tables.size() - 3));  // no EOI
    CHECK(refusal(cut).find("JPEGTables") != std::string::npos);
}

// Review of issue 22: skipped reduced pages were not charged to the budget, so a chain of
// reduced IFDs whose tables overlap (each one entry further, ~2N entries each) was read in
// work quadratic in the file. Here 100 such IFDs (5 kB) lead to one full page.
TEST_CASE("tiff - overlapping reduced pages are charged to the budget", "[attachments]") {
    constexpr std::uint32_t n = 100, base = 1000, entries = 4 * n;
    const std::uint32_t page = base + 2 + 12 * entries + 6;
    Bytes b(base, 0);
    b[0] = b[1] = 'I';
    put16(b, 2, 42);
    put32(b, 4, base);
    b.resize(page + 64, 0);
    const auto count = [&](std::uint32_t k) { return k < n ? 2 * n + k + 1 : 0; };  // IFD k: entries k .. 2n+2k
    put16(b, base, static_cast<std::uint16_t>(count(0)));
    for (std::uint32_t j = 0; j < entries; ++j) {
        const std::size_t at = base + 2 + 12 * j;
        if (j % 2 == 0) {  // NewSubfileType = 1 (reduced), SHORT
            put16(b, at, 254);
            put16(b, at + 2, 3);
            put32(b, at + 4, 1);
            put16(b, at + 8, 1);
        } else if (j >= 2 * n + 1 && j < 4 * n) {  // IFD k's next pointer (tag/type read as one LONG)
            const std::uint32_t k = (j - 2 * n - 1) / 2;
            put32(b, at, k + 1 < n ? base + 12 * (k + 1) : page);
        } else {
            put16(b, at, 1000);  // an unknown type: skipped
        }
        put16(b, at + 10, static_cast<std::uint16_t>(count(j + 1)));  // IFD j+1's entry count
    }
    write_ifd(b, page, Ifd{{{256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, page + 56}, {279, 4, 1, 8}}, 0});
    CHECK_THAT(refusal(b), Catch::Contains("more than once"));
    // The same chain of 2 pages (no overlap): fine.
    put32(b, base + 2 + 12 * (2 * n + 1), page);
    StripResult r;
    strip_tiff(b, StripOptions{}, r);
    CHECK(std::find(r.removed.begin(), r.removed.end(), "1 reduced-resolution page(s) (thumbnails)") != r.removed.end());
}

TEST_CASE("tiff - a BYTE NewSubfileType marks a reduced page; a DNG with a reduced IFD0 is refused", "[attachments]") {
    Bytes byte_type = with_reduced_page(254, 1);
    put16(byte_type, 300 + 2 + 2, 1);  // NewSubfileType as BYTE 1
    StripResult r;
    strip_tiff(byte_type, StripOptions{}, r);
    CHECK_FALSE(contains(r.bytes, "THUMBPIX"));
    // A DNG: IFD0 the thumbnail (with DNGVersion), the full page after it.
    Bytes dng = with_reduced_page(254, 1);
    put32(dng, 4, 300);
    write_ifd(dng, 300, Ifd{{{254, 4, 1, 1}, {256, 3, 1, 4}, {257, 3, 1, 2}, {273, 4, 1, 400}, {279, 4, 1, 8}, {50706, 1, 4, 0x00000401}}, 64});
    put32(dng, 64 + 2 + 12 * 12, 0);
    CHECK_THAT(refusal(dng), Catch::Contains("DNG"));
}

// Second review of issue 22 (HIGH): every entry of a SubIFDs/EXIF/GPS pointer array was checked
// on every page that pointed at it, and the (dropped) array was never charged, so pages sharing
// one long array cost pages x entries. Each walk of an array is now charged to the budget.
TEST_CASE("tiff - a pointer array shared by several pages is charged on every walk", "[attachments]") {
    constexpr std::uint32_t entries = 1000, array_at = 32, sub_ifd = 16, strip = 8;
    const std::uint32_t page1 = array_at + 4 * entries, page2 = page1 + 2 + 12 * 5 + 4;
    const auto build = [&](std::uint32_t second_count, std::uint32_t second_array) {
        Bytes b(page1, 0);
        b[0] = b[1] = 'I';
        put16(b, 2, 42);
        put32(b, 4, page1);
        b[strip] = 0x55;
        write_ifd(b, sub_ifd, Ifd{{}, 0});  // an empty IFD
        for (std::uint32_t k = 0; k < entries; ++k) put32(b, array_at + 4 * k, sub_ifd);
        write_ifd(b, page1, Ifd{{{256, 3, 1, 1}, {257, 3, 1, 1}, {273, 4, 1, strip}, {279, 4, 1, 1}, {330, 4, entries, array_at}}, page2});
        write_ifd(b, page2, Ifd{{{256, 3, 1, 1}, {257, 3, 1, 1}, {273, 4, 1, strip}, {279, 4, 1, 1}, {330, 4, second_count, second_array}}, 0});
        return b;
    };
    // Page 2 points at its own one-entry SubIFDs (inline): fine, both pages kept.
    StripResult r;
    strip_tiff(build(1, sub_ifd), StripOptions{}, r);
    CHECK(std::find(r.removed.begin(), r.removed.end(), "page 2: SubIFDs (thumbnails)") != r.removed.end());
    // Page 2 points at page 1's 1000-entry array too: its second walk exceeds the file's size.
    CHECK_THAT(refusal(build(entries, array_at)), Catch::Contains("more than once"));
}

namespace {
// A PEF-like raw as a Pentax K camera writes it: IFD0 is the full-size picture (NewSubfileType
// 0), its strip is CFA sensor data (PhotometricInterpretation 32803) in Pentax's own compression
// 65535, with Make PENTAX and a CFA pattern; the decoding parameters would be in the maker note.
Bytes pef_like(std::uint32_t compression) {
    Bytes b = tiny_tiff();
    put32(b, 64 + 2 + 12 * 3 + 8, compression);  // Compression
    put32(b, 64 + 2 + 12 * 4 + 8, 32803);        // PhotometricInterpretation: colour filter array
    return b;
}
}  // namespace

TEST_CASE("tiff - camera raw (PEF, CFA sensor data) is refused rather than damaged", "[attachments]") {
    // Pentax compression and CFA data: either is enough to refuse.
    CHECK(refusal(pef_like(65535)).find("compression 65535") != std::string::npos);
    CHECK(refusal(pef_like(1)).find("camera raw image") != std::string::npos);  // uncompressed PEF / TIFF-EP CFA
    Bytes linear_raw = tiny_tiff();
    put32(linear_raw, 64 + 2 + 12 * 4 + 8, 34892);
    CHECK(refusal(linear_raw).find("camera raw image") != std::string::npos);
    Bytes vendor = tiny_tiff();  // a maker's compression on an RGB-looking page (Sony 32767)
    put32(vendor, 64 + 2 + 12 * 3 + 8, 32767);
    CHECK(refusal(vendor).find("compression 32767") != std::string::npos);
    // A raw whose IFD0 is a full-size preview and whose sensor data is a SubIFD (NEF, ARW):
    // refused, not sent as its preview.
    Bytes preview_first = tiny_tiff();
    put16(preview_first, 64 + 2 + 12 * 11, 330);  // the GPS pointer becomes SubIFDs -> IFD at 240
    write_ifd(preview_first, 240, Ifd{{{254, 4, 1, 0}, {262, 3, 1, 32803}}, 0});
    CHECK(refusal(preview_first).find("(in a SubIFD)") != std::string::npos);
    // A SubIFD that is an ordinary thumbnail (RGB, reduced) is dropped as before.
    Bytes thumb_sub = preview_first;
    write_ifd(thumb_sub, 240, Ifd{{{254, 4, 1, 1}, {262, 3, 1, 2}}, 0});
    CHECK(refusal(thumb_sub) == "accepted");
    // The compressions a decoder draws alone still go through (LZW, Deflate, PackBits, ZSTD).
    for (const std::uint32_t c : {1u, 5u, 8u, 32773u, 32946u, 50000u}) {
        INFO("compression " << c);
        Bytes ok = tiny_tiff();
        put32(ok, 64 + 2 + 12 * 3 + 8, c);
        CHECK(refusal(ok) == "accepted");
    }
}

// Fourth review of issue 22 (item 4): a kept tag was kept whatever its type, so an XResolution
// declared ASCII with 200 bytes carried text out. Each kept tag must have the type and, for a
// single value, the count TIFF 6.0 gives it; otherwise the file is refused.
TEST_CASE("tiff - a kept tag of the wrong type or count is refused", "[attachments]") {
    const auto with_entry = [](std::uint16_t tag, std::uint16_t type, std::uint32_t count, std::uint32_t value) {
        Bytes b = tiny_tiff();
        const std::string note = "Alice Example lives at 48.8584 N";
        b.resize(400, 0);
        std::copy(note.begin(), note.end(), b.begin() + 300);
        write_ifd(b, 64, Ifd{{{256, 3, 1, 4}, {257, 3, 1, 2}, {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 1}, {273, 4, 1, 8},
                             {278, 3, 1, 2}, {279, 4, 1, 8}, {tag, type, count, value}}, 0});
        return b;
    };
    CHECK_THAT(refusal(with_entry(282, 2, 33, 300)), Catch::Contains("type or count"));  // XResolution as ASCII
    CHECK_THAT(refusal(with_entry(282, 7, 33, 300)), Catch::Contains("type or count"));  // as UNDEFINED
    CHECK_THAT(refusal(with_entry(282, 5, 4, 300)), Catch::Contains("type or count"));   // four rationals
    CHECK_THAT(refusal(with_entry(296, 1, 33, 300)), Catch::Contains("type or count"));  // ResolutionUnit as 33 bytes
    CHECK_THAT(refusal(with_entry(347, 2, 33, 300)), Catch::Contains("type or count"));  // JPEGTables as ASCII
    CHECK(refusal(with_entry(282, 5, 1, 300)) == "accepted");                           // one RATIONAL
    CHECK(refusal(with_entry(296, 3, 1, 2)) == "accepted");
}

TEST_CASE("tiff - a kept table longer than the page gives it (text in BitsPerSample, ColorMap...) is refused", "[attachments]") {
    // A page of `samples` samples of `bits` bits (photometric `photometric`) with `extra` added;
    // the 32 bytes at 300 spell text (16 SHORTs), and a ColorMap-sized block of SHORT 8s is at 400.
    const auto page = [](std::uint16_t samples, std::uint16_t bits, std::uint16_t photometric, std::vector<Ifd::E> extra) {
        Bytes b = tiny_tiff();
        b.resize(400 + 2 * 3 * 256, 0);
        const std::string text = "Alice Example 48.8584N 2.2945E  ";
        std::copy(text.begin(), text.end(), b.begin() + 300);
        for (std::size_t at = 400; at + 1 < b.size(); at += 2) b[at] = 8;
        std::vector<Ifd::E> entries{{256, 3, 1, 4}, {257, 3, 1, 2}, {259, 3, 1, 1}, {262, 3, 1, photometric},
                                    {273, 4, 1, 8}, {277, 3, 1, samples}, {278, 3, 1, 2}, {279, 4, 1, 8}};
        if (bits != 0) entries.push_back({258, 3, 1, bits});
        entries.insert(entries.end(), extra.begin(), extra.end());
        std::sort(entries.begin(), entries.end(), [](const Ifd::E& a, const Ifd::E& c) { return a.tag < c.tag; });
        write_ifd(b, 64, Ifd{entries, 0});
        return b;
    };
    const std::string refused = "count or values the page does not give it";
    // The review's file: BitsPerSample as 16 SHORTs spelling text, on a one-sample page.
    CHECK_THAT(refusal(page(1, 0, 1, {{258, 3, 16, 300}})), Catch::Contains(refused));
    CHECK_THAT(refusal(page(16, 0, 1, {{258, 3, 16, 300}})), Catch::Contains(refused));  // right count, unequal values
    CHECK_THAT(refusal(page(1, 8, 1, {{339, 3, 16, 300}})), Catch::Contains(refused));   // SampleFormat
    CHECK_THAT(refusal(page(3, 8, 2, {{338, 3, 1, 0}})), Catch::Contains(refused));     // ExtraSamples beside RGB alone
    CHECK_THAT(refusal(page(16, 8, 1, {{338, 3, 15, 300}})), Catch::Contains(refused));  // ExtraSamples as text
    CHECK_THAT(refusal(page(1, 8, 3, {{320, 3, 16, 300}})), Catch::Contains(refused));   // ColorMap, 16 not 768
    CHECK_THAT(refusal(page(1, 8, 1, {{301, 3, 16, 300}})), Catch::Contains(refused));   // TransferFunction
    CHECK_THAT(refusal(page(1, 17, 3, {{320, 3, 16, 300}})), Catch::Contains(refused));  // ColorMap of 2^17 entries
    // What real pages have is kept: per-sample tables of SamplesPerPixel equal values, a ColorMap
    // of 3 * 2^BitsPerSample, ExtraSamples within the non-colour samples.
    CHECK(refusal(page(1, 8, 3, {{320, 3, 3 * 256, 400}})) == "accepted");
    CHECK(refusal(page(1, 8, 1, {{301, 3, 256, 400}})) == "accepted");
    CHECK(refusal(page(4, 0, 2, {{258, 3, 4, 400}, {338, 3, 1, 2}, {339, 3, 1, 1}})) == "accepted");
    // SMin/SMaxSampleValue (display hints of any number type) are dropped, not copied.
    StripResult out;
    strip_tiff(page(1, 8, 1, {{340, 12, 4, 300}}), StripOptions{}, out);
    CHECK_FALSE(contains(out.bytes, "Alice"));
}
