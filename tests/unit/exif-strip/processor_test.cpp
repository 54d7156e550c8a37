// The exif-strip processor and the processor chain: type sniffing, pass-through, refusals.

#include <catch2/catch.hpp>

#include <string>

#include "metadata_stripper.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

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

TEST_CASE("attachments - unknown types pass through untouched and are reported", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Attachment a{text("hello, not an image"), "text/plain"};
    const auto report = stripper.process(a);
    CHECK(report.outcome == Outcome::passed_through);
    CHECK(report.detail.find("metadata NOT removed") != std::string::npos);
    CHECK(a.bytes == text("hello, not an image"));

    Attachment gif{text("GIF89a......"), "image/gif"};
    CHECK(stripper.process(gif).detail.find("other image") != std::string::npos);
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

TEST_CASE("attachments - formats disabled in config pass through and say so", "[attachments]") {
    StripperConfig config;
    config.png = false;
    const Bytes png = read_file(corpus_dir() / "png/rgb-full.png");
    Attachment a{png, "image/png"};
    const auto report = MetadataStripper(config).process(a);
    CHECK(report.outcome == Outcome::passed_through);
    CHECK(report.detail.find("png disabled") != std::string::npos);
    CHECK(a.bytes == png);
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
