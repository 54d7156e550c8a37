// The plugin's config values turned into a chain: defaults, choices, clear errors.

#include <catch2/catch.hpp>

#include "chain_config.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

TEST_CASE("attachments - default settings strip all three formats and keep orientation", "[attachments]") {
    const ProcessorChain chain = make_chain(ChainSettings{});
    REQUIRE(chain.size() == 1);
    for (const char* f : {"jpeg/baseline-full.jpg", "png/rgb-full.png", "webp/lossy-full.webp"}) {
        const auto r = chain.run(Attachment{read_file(corpus_dir() / f), ""});
        CHECK(r.reports.at(0).outcome == Outcome::processed);
        CHECK(r.reports.at(0).detail.find("orientation 6 kept") != std::string::npos);
    }
}

TEST_CASE("attachments - settings choose formats and orientation mode", "[attachments]") {
    const ProcessorChain chain = make_chain(ChainSettings{{"strip-metadata"}, {"jpeg"}, "drop"});
    const auto jpeg = chain.run(Attachment{read_file(corpus_dir() / "jpeg/baseline-full.jpg"), "image/jpeg"});
    CHECK(jpeg.reports[0].detail.find("orientation") == std::string::npos);
    const Bytes png = read_file(corpus_dir() / "png/rgb-full.png");
    CHECK_THROWS_WITH(chain.run(Attachment{png, "image/png"}), Catch::Contains("disabled in config"));
}

TEST_CASE("attachments - bad settings are refused naming the key", "[attachments]") {
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"downscale"}, {"jpeg"}, "keep"}), Catch::Contains("exif-strip.chain: unknown processor 'downscale'"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{{}, {"jpeg"}, "keep"}), Catch::Contains("exif-strip.chain: empty"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"strip-metadata"}, {"heic"}, "keep"}), Catch::Contains("exif-strip.formats: unknown format 'heic'"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"strip-metadata"}, {"png"}, "apply"}), Catch::Contains("exif-strip.orientation: 'apply'"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"strip-metadata"}, {"png"}, "keep", "drop"}), Catch::Contains("exif-strip.other_images: 'drop'"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"strip-metadata"}, {"bmp"}, "keep"}), Catch::Contains("known: jpeg, png, webp, tiff, gif"));
}

TEST_CASE("attachments - other_images is replaced: \"pass\" is refused naming keep_metadata", "[attachments]") {
    CHECK_THROWS_WITH(make_chain(ChainSettings{{"strip-metadata"}, {"jpeg"}, "keep", "pass"}),
                      Catch::Contains("exif-strip.other_images: 'pass' is no longer offered") && Catch::Contains("--keep-metadata"));
    // "refuse" is what now always happens: accepted, and an unknown media type is refused.
    const Bytes flac{'f', 'L', 'a', 'C', 0, 0, 0, 0x22};
    const ProcessorChain strict = make_chain(ChainSettings{{"strip-metadata"}, {"jpeg", "png", "webp"}, "keep", "refuse"});
    CHECK_THROWS_WITH(strict.run(Attachment{flac, "audio/flac"}), Catch::Contains("FLAC audio"));
    CHECK_THROWS_WITH(make_chain(ChainSettings{}).run(Attachment{flac, ""}), Catch::Contains("FLAC audio"));
    CHECK(strict.run(Attachment{Bytes{'t', 'x', 't'}, "text/plain"}).reports[0].outcome == Outcome::passed_through);
}
