// JPEG stripping on hand-built segment sequences: what is kept, what goes, what is refused.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include "exif_orientation.hpp"
#include "jpeg_strip.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes segment(std::uint8_t marker, const std::string& payload) {
    Bytes b(4 + payload.size());
    b[0] = 0xFF;
    b[1] = marker;
    b[2] = static_cast<std::uint8_t>((payload.size() + 2) >> 8);
    b[3] = static_cast<std::uint8_t>(payload.size() + 2);
    std::memcpy(b.data() + 4, payload.data(), payload.size());
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

const Bytes soi{0xFF, 0xD8};
const Bytes eoi{0xFF, 0xD9};
const Bytes sof = segment(0xC0, std::string("\x08\x00\x10\x00\x10\x01\x01\x11\x00", 9));
const Bytes dqt = segment(0xDB, std::string(65, '\x01'));
const Bytes sos = segment(0xDA, std::string("\x01\x01\x00\x00\x3F\x00", 6));
// Entropy data with a stuffed 0xFF00, a restart marker and a fill-free end.
const Bytes scan{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0x00};

std::string exif_with_orientation(std::uint16_t o) {
    const Bytes tiff = make_orientation_exif(o);
    return std::string("Exif\0\0", 6) + std::string(tiff.begin(), tiff.end());
}

StripResult strip(const Bytes& in, OrientationMode mode = OrientationMode::keep) {
    StripResult r;
    strip_jpeg(in, StripOptions{mode}, r);
    return r;
}

}  // namespace

TEST_CASE("attachments - jpeg keeps frame, tables and scan bytes exactly", "[attachments]") {
    const Bytes plain = cat({soi, dqt, sof, sos, scan, eoi});
    const auto r = strip(plain);
    CHECK(r.bytes == plain);
    CHECK(r.removed.empty());
}

TEST_CASE("attachments - jpeg removes APPn, comments and trailer but keeps ICC and Adobe", "[attachments]") {
    const Bytes icc = segment(0xE2, std::string("ICC_PROFILE\0\x01\x01profile", 21));
    const Bytes adobe = segment(0xEE, std::string("Adobe\0\x64\0\0\0\0\x01", 12));
    const Bytes in = cat({soi, segment(0xE1, exif_with_orientation(1)), segment(0xE1, "http://ns.adobe.com/xap/1.0/\0<x/>"),
                          icc, segment(0xED, "Photoshop 3.0\0IPTC"), segment(0xE2, "MPF\0xx"), adobe,
                          segment(0xFE, "a comment"), segment(0xE9, "vendor"), dqt, sof, sos, scan, eoi,
                          Bytes{'t', 'r', 'a', 'i', 'l'}});
    const auto r = strip(in);
    CHECK(r.bytes == cat({soi, icc, adobe, dqt, sof, sos, scan, eoi}));
    CHECK(r.removed.size() == 7);
    CHECK(r.orientation == 1);
    CHECK_FALSE(r.orientation_kept);  // 1 is the default: nothing to write
}

TEST_CASE("attachments - jpeg JFIF thumbnail is cut and JFIF stays first", "[attachments]") {
    std::string jfif("JFIF\0\x01\x02\x00\x00\x01\x00\x01\x02\x01", 14);
    jfif += std::string(2 * 1 * 3, '\x7F');  // a 2x1 RGB thumbnail
    const auto r = strip(cat({soi, segment(0xE0, jfif), segment(0xE1, exif_with_orientation(8)), dqt, sof, sos, scan, eoi}));
    const Bytes want_jfif = segment(0xE0, std::string("JFIF\0\x01\x02\x00\x00\x01\x00\x01\x00\x00", 14));
    const Bytes want_exif = segment(0xE1, exif_with_orientation(8));
    CHECK(r.bytes == cat({soi, want_jfif, want_exif, dqt, sof, sos, scan, eoi}));
    CHECK(r.orientation_kept);
}

TEST_CASE("attachments - jpeg orientation can be dropped too", "[attachments]") {
    const Bytes in = cat({soi, segment(0xE1, exif_with_orientation(6)), dqt, sof, sos, scan, eoi});
    CHECK(strip(in, OrientationMode::drop).bytes == cat({soi, dqt, sof, sos, scan, eoi}));
    const auto kept = strip(in, OrientationMode::keep);
    CHECK(kept.orientation == 6);
    CHECK(read_exif_orientation(ByteView(kept.bytes).subspan(6, 32)) == 6);
}

TEST_CASE("attachments - jpeg progressive scans with tables between them", "[attachments]") {
    const Bytes dht = segment(0xC4, std::string(20, '\x02'));
    const Bytes in = cat({soi, dqt, segment(0xC2, std::string("\x08\x00\x10\x00\x10\x01\x01\x11\x00", 9)), dht, sos, scan,
                          segment(0xFE, "between scans"), dht, sos, scan, segment(0xE1, "late app1"), sos, scan, eoi});
    const auto r = strip(in);
    CHECK(r.bytes == cat({soi, dqt, segment(0xC2, std::string("\x08\x00\x10\x00\x10\x01\x01\x11\x00", 9)), dht, sos, scan,
                          dht, sos, scan, sos, scan, eoi}));
    CHECK(r.removed.size() == 2);
}

TEST_CASE("attachments - jpeg drops stray bytes between segments as decoders skip them", "[attachments]") {
    const auto r = strip(cat({soi, dqt, Bytes{0x00, 0x11, 0x22}, sof, sos, scan, eoi}));
    CHECK(r.bytes == cat({soi, dqt, sof, sos, scan, eoi}));
    REQUIRE(r.removed.size() == 1);
    CHECK(r.removed[0] == "stray bytes between segments (3 bytes)");
    StripResult refused;
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, dqt, Bytes{0x00, 0x00}}), StripOptions{}, refused), Catch::Contains("no EOI"));
}

TEST_CASE("attachments - jpeg refuses malformed files with a clear error", "[attachments]") {
    StripResult r;
    const StripOptions o;
    CHECK_THROWS_WITH(strip_jpeg(Bytes{}, o, r), Catch::Contains("no SOI"));
    CHECK_THROWS_WITH(strip_jpeg(cat({Bytes{0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, 1, 2}}), o, r), Catch::Contains("runs past the end"));
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, dqt, sos, scan, eoi}), o, r), Catch::Contains("scan before the frame"));
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, dqt, sof, eoi}), o, r), Catch::Contains("EOI before any scan"));
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, dqt, sof, sos, scan}), o, r), Catch::Contains("no EOI"));
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, segment(0xF7, "jpeg-ls"), sos, scan, eoi}), o, r), Catch::Contains("unexpected marker 0xFFF7"));
    CHECK_THROWS_WITH(strip_jpeg(cat({soi, dqt, sof, Bytes{0xFF, 0xD8}, sos, scan, eoi}), o, r), Catch::Contains("unexpected marker"));
}

namespace {
// Cuts each corpus file at every `step`-th length (every length below 300).
void check_truncations(std::size_t step) {
    for (const auto& file : corpus_files("jpeg")) {
        const Bytes full = read_file(file);
        // The corpus trailers are text, so the last 0xFFD9 is the EOI marker.
        const std::size_t eoi_end =
            static_cast<std::size_t>(std::search(full.rbegin(), full.rend(), eoi.rbegin(), eoi.rend()).base() - full.begin());
        for (std::size_t len = 0; len < full.size(); len += (len < 300 ? 1 : step)) {
            INFO(file.filename().string() << " cut at " << len);
            StripResult r;
            if (len < eoi_end) {
                CHECK_THROWS_AS(strip_jpeg(ByteView(full).first(len), StripOptions{}, r), FormatError);
            } else {
                CHECK_NOTHROW(strip_jpeg(ByteView(full).first(len), StripOptions{}, r));
            }
        }
    }
}
}  // namespace

TEST_CASE("attachments - every truncation of a corpus JPEG is refused or loses only trailer", "[attachments]") { check_truncations(61); }

TEST_CASE("attachments - every truncation of a corpus JPEG is refused or loses only trailer (every length)", "[attachments][slow]") { check_truncations(1); }
