// The exif-strip processor and the processor chain: type sniffing, pass-through, refusals.

#include <catch2/catch.hpp>

#include <string>

#include "metadata_stripper.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
// A literal with its NUL bytes (all but the terminating one).
template <std::size_t N>
Bytes lit(const char (&s)[N]) {
    return Bytes(s, s + N - 1);
}

// A second processor for the chain tests: upper-cases text files, refuses empty ones.
class UpperCase final : public Processor {
public:
    [[nodiscard]] std::string_view name() const override { return "upper"; }
    ProcessReport process(Attachment& a) const override {
        if (a.bytes.empty()) throw ProcessError(name(), "empty file");
        if (a.mime_type != "text/plain") return {"upper", Outcome::passed_through, "not text", {}};
        for (auto& c : a.bytes) c = static_cast<std::uint8_t>(std::toupper(c));
        return {"upper", Outcome::processed, "upper-cased", {}};
    }
};

class Throws final : public Processor {
public:
    [[nodiscard]] std::string_view name() const override { return "throws"; }
    ProcessReport process(Attachment&) const override { throw std::length_error("too long"); }
};

}  // namespace

TEST_CASE("attachments - documents and unrecognised files go unchanged and the sender is told", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Attachment a{text("hello, not an image"), "text/plain"};
    const auto report = stripper.process(a);
    CHECK(report.outcome == Outcome::passed_through);
    CHECK(report.detail.find("unrecognised content: sent as a file, its contents are not changed") != std::string::npos);
    CHECK(a.bytes == text("hello, not an image"));

    const Bytes pdf = text("%PDF-1.7\n1 0 obj << /Author (Alice Example) >> endobj\n%%EOF\n");
    Attachment doc{pdf, "application/pdf"};
    CHECK(stripper.process(doc).detail.find("PDF document: sent as a file, its contents are not changed") != std::string::npos);
    CHECK(doc.bytes == pdf);
    Attachment zip{text("PK\x03\x04 word/document.xml"), ""};
    CHECK(stripper.process(zip).detail.find("office document") != std::string::npos);
}

TEST_CASE("attachments - media whose metadata cannot be removed is refused unless kept on request", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    const std::vector<std::pair<Bytes, std::string>> media = {
        {lit("fLaC\0\0\0\x22 ARTIST=Alice Example"), "FLAC audio"},
        {Bytes{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01}, "Matroska/WebM video"},
        {lit("ID3\x04\0\0\0\0\0\x10TPE1 Alice"), "MP3 audio"},
        {lit("RIFF\x24\0\0\0WAVEfmt "), "WAV audio"},
        {lit("BM\x3A\0\0\0\0\0\0\0"), "BMP image"},
        {lit("\0\0\0\x18" "ftypcrx \0\0\0\0"), "ISO media of an unknown brand"},  // HEIC/MP4/... are stripped
    };
    for (const auto& [bytes, kind] : media) {
        INFO(kind);
        Attachment refused{bytes, ""};
        CHECK_THROWS_WITH(stripper.process(refused),
                          Catch::Contains(kind) && Catch::Contains("metadata cannot be removed") && Catch::Contains("--keep-metadata"));
        Attachment kept{bytes, "", true};
        const auto report = stripper.process(kept);
        CHECK(report.outcome == Outcome::passed_through);
        CHECK(report.detail.find("metadata kept at the sender's request") != std::string::npos);
        CHECK(kept.bytes == bytes);
    }
    // keep_metadata is the sender's explicit choice for any file: a JPEG then goes untouched too.
    const Bytes jpeg = read_file(corpus_dir() / "jpeg/baseline-full.jpg");
    Attachment kept_jpeg{jpeg, "image/jpeg", true};
    CHECK(stripper.process(kept_jpeg).outcome == Outcome::passed_through);
    CHECK(kept_jpeg.bytes == jpeg);
}

TEST_CASE("attachments - the format is judged by content, not by the declared type", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Attachment jpeg_as_binary{read_file(corpus_dir() / "jpeg/baseline-full.jpg"), "application/octet-stream"};
    const auto size_before = jpeg_as_binary.bytes.size();
    CHECK(stripper.process(jpeg_as_binary).outcome == Outcome::processed);
    CHECK(jpeg_as_binary.bytes.size() < size_before);
    CHECK(jpeg_as_binary.mime_type == "image/jpeg");

    Attachment png_as_jpeg{read_file(corpus_dir() / "png/palette-trns.png"), "image/jpeg"};
    const auto report = stripper.process(png_as_jpeg);
    CHECK(png_as_jpeg.mime_type == "image/png");
    CHECK(report.detail.find("corrected") != std::string::npos);

    Attachment fake{text("not really a picture"), "image/jpeg"};
    CHECK_THROWS_WITH(stripper.process(fake), Catch::Contains("declared image/jpeg but the content is not a jpeg"));
}

TEST_CASE("attachments - an unparseable image is refused, not sent", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Bytes truncated = read_file(corpus_dir() / "jpeg/progressive-full.jpg");
    truncated.resize(truncated.size() / 2);
    Attachment a{truncated, "image/jpeg"};
    CHECK_THROWS_WITH(stripper.process(a), Catch::Contains("strip-metadata: truncated JPEG") && Catch::Contains("refused"));
    CHECK(a.bytes == truncated);  // untouched: the caller still has the file
}

TEST_CASE("attachments - formats disabled in config are refused unless kept on request", "[attachments]") {
    StripperConfig config;
    config.png = false;
    const Bytes png = read_file(corpus_dir() / "png/rgb-full.png");
    Attachment a{png, "image/png"};
    CHECK_THROWS_WITH(MetadataStripper(config).process(a), Catch::Contains("png: metadata removal is disabled in config"));
    Attachment kept{png, "image/png", true};
    CHECK(MetadataStripper(config).process(kept).outcome == Outcome::passed_through);
    CHECK(kept.bytes == png);
}

TEST_CASE("attachments - TIFF and GIF are stripped by the processor, type from content", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Attachment tiff{read_file(corpus_dir() / "tiff/pages-lzw-full.tif"), "application/octet-stream"};
    const auto t = stripper.process(tiff);
    CHECK(t.outcome == Outcome::processed);
    CHECK(t.detail.find("tiff: ") == 0);
    CHECK(t.detail.find("orientation 6 kept") != std::string::npos);
    CHECK(tiff.mime_type == "image/tiff");
    Attachment gif{read_file(corpus_dir() / "gif/animated-full.gif"), "image/png"};
    const auto g = stripper.process(gif);
    CHECK(g.outcome == Outcome::processed);
    CHECK(gif.mime_type == "image/gif");
    CHECK(g.detail.find("corrected") != std::string::npos);
    Bytes big_tiff = read_file(corpus_dir() / "tiff/mm-plain-full.tif");
    big_tiff[3] = 43;  // BigTIFF, big-endian
    Attachment big{big_tiff, ""};
    CHECK_THROWS_WITH(stripper.process(big), Catch::Contains("BigTIFF") && Catch::Contains("refused rather than sent"));
}

TEST_CASE("attachments - the chain runs processors in order and stops at a refusal", "[attachments]") {
    ProcessorChain chain;
    chain.add(std::make_unique<MetadataStripper>(StripperConfig{}));
    chain.add(std::make_unique<UpperCase>());
    REQUIRE(chain.size() == 2);

    const auto result = chain.run(Attachment{text("note"), "text/plain"});
    CHECK(result.attachment.bytes == text("NOTE"));
    REQUIRE(result.reports.size() == 2);
    CHECK(result.reports[0].outcome == Outcome::passed_through);
    CHECK(result.reports[1].outcome == Outcome::processed);

    const auto photo = chain.run(Attachment{read_file(corpus_dir() / "webp/lossy-full.webp"), "image/webp"});
    CHECK(photo.reports[0].outcome == Outcome::processed);
    CHECK(photo.reports[1].outcome == Outcome::passed_through);

    CHECK_THROWS_WITH(chain.run(Attachment{{}, "text/plain"}), "upper: empty file");

    ProcessorChain failing;
    failing.add(std::make_unique<Throws>());
    CHECK_THROWS_AS(failing.run(Attachment{text("x"), "text/plain"}), ProcessError);
    CHECK_THROWS_WITH(failing.run(Attachment{text("x"), "text/plain"}), "throws: too long");
}
