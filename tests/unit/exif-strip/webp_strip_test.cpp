// WebP stripping on hand-built RIFF files: chunk filtering, VP8X flags, refusals.

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "exif_orientation.hpp"
#include "test_support.hpp"
#include "webp_strip.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes le32(std::size_t v) {
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}

Bytes chunk(const std::string& fourcc, const std::string& data) {
    Bytes b(8 + data.size() + (data.size() & 1), 0);
    const Bytes n = le32(data.size());
    std::memcpy(b.data(), fourcc.data(), 4);
    std::memcpy(b.data() + 4, n.data(), 4);
    std::memcpy(b.data() + 8, data.data(), data.size());
    return b;
}

Bytes riff(std::initializer_list<Bytes> chunks) {
    Bytes body{'W', 'E', 'B', 'P'};
    for (const auto& c : chunks) body.insert(body.end(), c.begin(), c.end());
    Bytes out{'R', 'I', 'F', 'F'};
    const Bytes n = le32(body.size());
    out.insert(out.end(), n.begin(), n.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

Bytes vp8x(std::uint8_t flags) { return chunk("VP8X", std::string(1, static_cast<char>(flags)) + std::string(9, '\0')); }
const Bytes vp8 = chunk("VP8 ", "lossy-bits");
const Bytes vp8l = chunk("VP8L", "lossless-bits");

std::string orientation_tiff(std::uint16_t o) {
    const Bytes t = make_orientation_exif(o);
    return std::string(t.begin(), t.end());
}

StripResult strip(const Bytes& in, OrientationMode mode = OrientationMode::keep) {
    StripResult r;
    strip_webp(in, StripOptions{mode}, r);
    return r;
}

}  // namespace

TEST_CASE("attachments - webp simple file without metadata is unchanged", "[attachments]") {
    const Bytes in = riff({vp8});
    CHECK(strip(in).bytes == in);
}

TEST_CASE("attachments - webp drops EXIF and XMP, keeps ICC, fixes VP8X flags and size", "[attachments]") {
    const Bytes iccp = chunk("ICCP", "profile");
    const Bytes in = riff({vp8x(0x20 | 0x08 | 0x04), iccp, vp8, chunk("EXIF", orientation_tiff(1)), chunk("XMP ", "<x:xmpmeta/>"), chunk("ZZZZ", "x")});
    const auto r = strip(in);
    CHECK(r.bytes == riff({vp8x(0x20), iccp, vp8}));
    CHECK(r.removed.size() == 3);
}

TEST_CASE("attachments - webp orientation is written back with the EXIF flag", "[attachments]") {
    const Bytes in = riff({vp8x(0x10 | 0x08), chunk("ALPH", "a"), vp8, chunk("EXIF", std::string("Exif\0\0", 6) + orientation_tiff(5))});
    CHECK(strip(in).bytes == riff({vp8x(0x10 | 0x08), chunk("ALPH", "a"), vp8, chunk("EXIF", orientation_tiff(5))}));
    CHECK(strip(in, OrientationMode::drop).bytes == riff({vp8x(0x10), chunk("ALPH", "a"), vp8}));
}

TEST_CASE("attachments - webp animation frames lose unknown sub-chunks", "[attachments]") {
    const std::string frame_header(16, '\0');
    const auto frame = [&](std::initializer_list<Bytes> subs) {
        std::string data = frame_header;
        for (const auto& s : subs) data.append(s.begin(), s.end());
        return chunk("ANMF", data);
    };
    const Bytes in = riff({vp8x(0x02), chunk("ANIM", "loopcnt"), frame({vp8l, chunk("XMP ", "hidden")}), frame({vp8}), chunk("EXIF", "x")});
    CHECK(strip(in).bytes == riff({vp8x(0x02), chunk("ANIM", "loopcnt"), frame({vp8l}), frame({vp8})}));
}

TEST_CASE("attachments - webp trailer after the RIFF chunk is removed", "[attachments]") {
    Bytes in = riff({vp8l});
    in.insert(in.end(), {'G', 'P', 'S'});
    const auto r = strip(in);
    CHECK(r.bytes == riff({vp8l}));
    CHECK(r.removed.back() == "data after the RIFF chunk (3 bytes)");
}

TEST_CASE("attachments - webp refuses malformed files with a clear error", "[attachments]") {
    StripResult r;
    const StripOptions o;
    Bytes oversized = riff({vp8});
    oversized[4] = 0xFF;
    Bytes chunk_past_end = riff({vp8});
    chunk_past_end[16] = 0x7F;
    CHECK_THROWS_WITH(strip_webp(Bytes{'R', 'I', 'F', 'F'}, o, r), Catch::Contains("bad RIFF header"));
    CHECK_THROWS_WITH(strip_webp(oversized, o, r), Catch::Contains("RIFF size exceeds the file"));
    CHECK_THROWS_WITH(strip_webp(chunk_past_end, o, r), Catch::Contains("runs past the end"));
    CHECK_THROWS_WITH(strip_webp(riff({vp8x(0), chunk("EXIF", "x")}), o, r), Catch::Contains("no image data"));
    CHECK_THROWS_WITH(strip_webp(riff({chunk("EXIF", "x"), vp8}), o, r), Catch::Contains("first chunk"));
    CHECK_THROWS_WITH(strip_webp(riff({chunk("VP8X", "short"), vp8}), o, r), Catch::Contains("VP8X chunk too short"));
    CHECK_THROWS_WITH(strip_webp(riff({vp8x(2), chunk("ANMF", "short")}), o, r), Catch::Contains("ANMF chunk shorter"));
}

namespace {
// Cuts each corpus file at every `step`-th length (every length below 300).
void check_truncations(std::size_t step) {
    for (const auto& file : corpus_files("webp")) {
        const Bytes full = read_file(file);
        for (std::size_t len = 0; len < full.size(); len += (len < 300 ? 1 : step)) {
            INFO(file.filename().string() << " cut at " << len);
            StripResult r;
            CHECK_THROWS_AS(strip_webp(ByteView(full).first(len), StripOptions{}, r), FormatError);
        }
    }
}
}  // namespace

TEST_CASE("attachments - every truncation of a corpus WebP is refused", "[attachments]") { check_truncations(47); }

TEST_CASE("attachments - every truncation of a corpus WebP is refused (every length)", "[attachments][slow]") { check_truncations(1); }

TEST_CASE("attachments - webp VP8X alpha flag follows the image data", "[attachments]") {
    // VP8L header: signature 0x2F, then 14+14 bits of size, then the alpha_is_used bit (28).
    const Bytes alpha_vp8l = chunk("VP8L", std::string("\x2F\x00\x00\x00\x10", 5) + "bits");
    CHECK(strip(riff({vp8x(0x00), alpha_vp8l, chunk("XMP ", "x")})).bytes == riff({vp8x(0x10), alpha_vp8l}));
    CHECK(strip(riff({vp8x(0x10), vp8})).bytes == riff({vp8x(0x00), vp8}));  // claimed alpha, none present
}
