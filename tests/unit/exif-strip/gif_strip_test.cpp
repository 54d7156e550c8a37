// GIF stripping: hand-built files (extensions kept and dropped, refusals) and the corpus
// (every truncation refused, idempotent output).

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "gif_strip.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Header and a 2x2 screen with a 2-colour global table.
const Bytes head = text("GIF89a") + Bytes{2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255};
const Bytes control = {0x21, 0xF9, 4, 0x04, 10, 0, 0, 0};
const Bytes image = {0x2C, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x84, 0x51, 0};
const Bytes loop = text("\x21\xFF\x0BNETSCAPE2.0") + Bytes{3, 1, 0, 0, 0};
const Bytes comment = text("\x21\xFE\x0D" "Alice Example") + Bytes{0};
const Bytes xmp = text("\x21\xFF\x0BXMP DataXMP") + text("\x05Paris") + Bytes{0};
const Bytes plain_text = Bytes{0x21, 0x01, 12, 0, 0, 0, 0, 2, 0, 2, 0, 1, 1, 0, 1} + text("\x05""Alice") + Bytes{0};
const Bytes trailer = {0x3B};

}  // namespace

TEST_CASE("gif - keeps frames, timing and looping; drops comments, XMP, plain text, trailer data", "[attachments]") {
    const Bytes in = head + loop + comment + control + image + xmp + control + plain_text + control + image + trailer +
                     text("TRAILER");
    StripResult r;
    strip_gif(in, StripOptions{}, r);
    CHECK(r.bytes == head + loop + control + image + control + image + trailer);
    CHECK(r.removed.size() == 5);  // comment, XMP, plain text and its control, trailer data
    StripResult again;
    strip_gif(r.bytes, StripOptions{}, again);
    CHECK(again.bytes == r.bytes);
    CHECK(again.removed.empty());
}

TEST_CASE("gif - a looping extension keeps only its loop count", "[attachments]") {
    const Bytes padded_loop = text("\x21\xFF\x0BNETSCAPE2.0") + Bytes{3, 1, 5, 0} + text("\x04Nice") + Bytes{0};
    StripResult r;
    strip_gif(head + padded_loop + image + trailer, StripOptions{}, r);
    CHECK(r.bytes == head + text("\x21\xFF\x0BNETSCAPE2.0") + Bytes{3, 1, 5, 0, 0} + image + trailer);
}

TEST_CASE("gif - refuses malformed files with a clear error", "[attachments]") {
    const auto refusal = [](const Bytes& in) -> std::string {
        StripResult r;
        try {
            strip_gif(in, StripOptions{}, r);
        } catch (const FormatError& e) {
            return e.what();
        }
        return "accepted";
    };
    CHECK(refusal(text("GIF90a") + Bytes(20, 0)).find("not a GIF") != std::string::npos);
    CHECK(refusal(head + image).find("truncated GIF") != std::string::npos);
    CHECK(refusal(head + comment + trailer).find("no image") != std::string::npos);
    CHECK(refusal(head + Bytes{0x99} + trailer).find("unknown block") != std::string::npos);
    Bytes bad_control = control;
    bad_control[2] = 3;
    CHECK(refusal(head + bad_control + image + trailer).find("graphic control") != std::string::npos);
    Bytes bad_lzw = image;
    bad_lzw[10] = 12;
    CHECK(refusal(head + bad_lzw + trailer).find("LZW") != std::string::npos);
}

TEST_CASE("gif - every truncation of a corpus GIF is refused or loses only trailer data", "[attachments]") {
    for (const auto& file : corpus_files("gif")) {
        const Bytes full = read_file(file);
        StripResult whole;
        strip_gif(full, StripOptions{}, whole);
        const auto t = std::search(full.begin(), full.end(), std::begin("\x3BTRAILER"), std::end("\x3BTRAILER") - 1);
        REQUIRE(t != full.end());
        const auto trailer_end = static_cast<std::size_t>(t - full.begin()) + 1;
        for (std::size_t len = 0; len < full.size(); ++len) {
            INFO(file.filename().string() << " cut at " << len);
            StripResult r;
            if (len < trailer_end) {
                CHECK_THROWS_AS(strip_gif(ByteView(full).first(len), StripOptions{}, r), FormatError);
            } else {
                strip_gif(ByteView(full).first(len), StripOptions{}, r);
                CHECK(r.bytes == whole.bytes);
            }
        }
    }
}
