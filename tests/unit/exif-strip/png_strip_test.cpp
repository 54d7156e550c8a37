// PNG stripping on hand-built chunk sequences: kept chunks, removed chunks, refusals.

#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "exif_orientation.hpp"
#include "png_strip.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes chunk(const std::string& type, const std::string& data) {
    Bytes b(12 + data.size());
    const auto n = static_cast<std::uint32_t>(data.size());
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
    std::memcpy(b.data() + 4, type.data(), 4);
    std::memcpy(b.data() + 8, data.data(), data.size());
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), b.data() + 4, static_cast<uInt>(4 + data.size()));
    for (int i = 0; i < 4; ++i) b[8 + data.size() + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

const Bytes ihdr = chunk("IHDR", std::string("\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0", 13));
const Bytes idat = chunk("IDAT", "compressed-pixels");
const Bytes iend = chunk("IEND", "");

std::string orientation_tiff(std::uint16_t o) {
    const Bytes t = make_orientation_exif(o);
    return std::string(t.begin(), t.end());
}

}  // namespace

TEST_CASE("attachments - png keeps picture chunks and removes text, time and exif", "[attachments]") {
    const Bytes keep1 = chunk("gAMA", std::string("\0\0\xB1\x8F", 4));
    const Bytes keep2 = chunk("iCCP", std::string("icc\0\0zlibdata", 13));
    const Bytes keep3 = chunk("tRNS", "ab");
    const Bytes in = cat({ihdr, keep1, chunk("tEXt", std::string("Author\0Alice", 12)), chunk("tIME", "1234567"), keep2,
                          chunk("zTXt", "Comment\0\0xx"), keep3, chunk("iTXt", "XML:com.adobe.xmp"), chunk("eXIf", orientation_tiff(1)),
                          chunk("prVt", "private"), idat, idat, iend});
    StripResult r;
    strip_png(Bytes(in.begin(), in.end()), StripOptions{}, r);
    CHECK(r.bytes == cat({ihdr, keep1, keep2, keep3, idat, idat, iend}));
    CHECK(r.removed.size() == 6);
}

TEST_CASE("attachments - png orientation is written back as eXIf before IDAT", "[attachments]") {
    const Bytes in = cat({ihdr, idat, chunk("eXIf", orientation_tiff(3)), iend, Bytes{'x', 'y'}});
    StripResult r;
    strip_png(in, StripOptions{OrientationMode::keep}, r);
    CHECK(r.bytes == cat({ihdr, chunk("eXIf", orientation_tiff(3)), idat, iend}));
    CHECK(r.orientation_kept);
    CHECK(r.removed.back() == "data after IEND (2 bytes)");
    strip_png(in, StripOptions{OrientationMode::drop}, r);
    CHECK(r.bytes == cat({ihdr, idat, iend}));
}

TEST_CASE("attachments - png refuses malformed files with a clear error", "[attachments]") {
    StripResult r;
    const StripOptions o;
    Bytes bad_crc = cat({ihdr, idat, iend});
    bad_crc[8 + 25 + 9] ^= 1;  // a byte of the IDAT data
    CHECK_THROWS_WITH(strip_png(Bytes{1, 2, 3}, o, r), Catch::Contains("bad signature"));
    CHECK_THROWS_WITH(strip_png(bad_crc, o, r), Catch::Contains("CRC mismatch in chunk IDAT"));
    CHECK_THROWS_WITH(strip_png(cat({idat, ihdr, iend}), o, r), Catch::Contains("first chunk is not a valid IHDR"));
    CHECK_THROWS_WITH(strip_png(cat({ihdr, iend}), o, r), Catch::Contains("no IDAT"));
    CHECK_THROWS_WITH(strip_png(cat({ihdr, idat}), o, r), Catch::Contains("no IEND"));
    CHECK_THROWS_WITH(strip_png(cat({ihdr, chunk("QQQQ", "x"), idat, iend}), o, r), Catch::Contains("unknown critical chunk QQQQ"));
    CHECK_THROWS_WITH(strip_png(cat({ihdr, chunk("I D1", "x"), idat, iend}), o, r), Catch::Contains("invalid chunk type"));
    Bytes long_chunk = cat({ihdr, idat, iend});
    long_chunk[8 + 25 + 1] = 0x7F;  // IDAT length now far past the end
    CHECK_THROWS_WITH(strip_png(long_chunk, o, r), Catch::Contains("runs past the end"));
}

namespace {
// Cuts each corpus file at every `step`-th length (every length below 300).
void check_truncations(std::size_t step) {
    for (const auto& file : corpus_files("png")) {
        const Bytes full = read_file(file);
        const std::string iend_tag = "IEND";
        const auto at = std::search(full.begin(), full.end(), iend_tag.begin(), iend_tag.end());
        const auto iend_end = static_cast<std::size_t>(at - full.begin()) + 8;
        for (std::size_t len = 0; len < full.size(); len += (len < 300 ? 1 : step)) {
            INFO(file.filename().string() << " cut at " << len);
            StripResult r;
            if (len < iend_end) {
                CHECK_THROWS_AS(strip_png(ByteView(full).first(len), StripOptions{}, r), FormatError);
            } else {
                CHECK_NOTHROW(strip_png(ByteView(full).first(len), StripOptions{}, r));
            }
        }
    }
}
}  // namespace

TEST_CASE("attachments - every truncation of a corpus PNG is refused or loses only trailer", "[attachments]") { check_truncations(53); }

TEST_CASE("attachments - every truncation of a corpus PNG is refused or loses only trailer (every length)", "[attachments][slow]") { check_truncations(1); }
