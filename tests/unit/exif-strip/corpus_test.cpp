// The real-image corpus (scripts/make-image-corpus.sh): after stripping, exiftool reports no
// metadata beyond file structure, orientation and colour profile, no identifying string is
// left in the bytes, and two independent decoders give the same pixels as for the original.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "image_type.hpp"
#include "metadata_stripper.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

// exiftool -a -G1 -s tags that describe structure, orientation or the colour profile.
const std::map<std::string, std::set<std::string>> allowed_tags = {
    {"ExifTool", {"ExifToolVersion"}},
    {"File", {"FileType", "FileTypeExtension", "MIMEType", "ExifByteOrder", "ImageWidth", "ImageHeight",
              "EncodingProcess", "BitsPerSample", "ColorComponents", "YCbCrSubSampling"}},
    {"JFIF", {"JFIFVersion", "ResolutionUnit", "XResolution", "YResolution"}},
    {"Adobe", {"DCTEncodeVersion", "APP14Flags0", "APP14Flags1", "ColorTransform"}},
    {"IFD0", {"Orientation"}},
    {"GIF", {"GIFVersion", "ImageWidth", "ImageHeight", "HasColorMap", "ColorResolutionDepth", "BitsPerPixel",
             "BackgroundColor", "AnimationIterations", "FrameCount", "Duration"}},
    {"PNG", {"ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter", "Interlace",
             "Gamma", "WhitePointX", "WhitePointY", "RedX", "RedY", "GreenX", "GreenY", "BlueX", "BlueY",
             "BackgroundColor", "PixelsPerUnitX", "PixelsPerUnitY", "PixelUnits", "ProfileName", "Palette",
             "Transparency", "SignificantBits", "SRGBRendering"}},
    {"RIFF", {"VP8Version", "ImageWidth", "ImageHeight", "HorizontalScale", "VerticalScale", "WebP_Flags",
              "AlphaPreprocessing", "AlphaFiltering", "AlphaCompression", "BackgroundColor", "AnimationLoopCount",
              "Duration"}},
    {"PNG-pHYs", {"PixelsPerUnitX", "PixelsPerUnitY", "PixelUnits"}},
    {"Composite", {"ImageSize", "Megapixels"}},
};

// Strings the corpus script wrote into metadata; none may survive.
const std::vector<std::string> identifying = {"Alice", "NIKON", "3020551", "SN740013", "Paris", "PhotoApp",
                                              "0123456789abcdef", "TRAILER", "Ver.1.10", "Our flat", "alice-laptop",
                                              "holiday"};

struct Tag final {
    std::string group, name, value;
};

std::vector<Tag> exiftool_tags(const std::filesystem::path& file) {
    const auto r = run_command("exiftool -a -G1 -s " + quoted(file));
    REQUIRE(r.exit_code == 0);
    std::vector<Tag> tags;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.size() < 3 || line[0] != '[') continue;
        const auto close = line.find(']');
        const auto colon = line.find(" : ", close);
        std::istringstream name(line.substr(close + 1, colon - close - 1));
        Tag t{line.substr(1, close - 1), {}, colon == std::string::npos ? "" : line.substr(colon + 3)};
        name >> t.name;
        tags.push_back(t);
    }
    return tags;
}

bool tag_allowed(const Tag& t) {
    if (t.group == "System" || t.group.rfind("ICC", 0) == 0) return true;  // file on disk; colour profile
    if (t.group == "File" && t.name == "PageCount") return true;           // TIFF pages
    // A TIFF page's IFD holds the tags that draw it (plugins/exif-strip/README.md).
    static const std::set<std::string> tiff_page = {
        "SubfileType", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression", "PhotometricInterpretation",
        "FillOrder", "StripOffsets", "SamplesPerPixel", "RowsPerStrip", "StripByteCounts", "PlanarConfiguration",
        "XResolution", "YResolution", "ResolutionUnit", "Predictor", "WhitePoint", "PrimaryChromaticities",
        "TileWidth", "TileLength", "TileOffsets", "TileByteCounts", "ExtraSamples", "SampleFormat", "ColorMap",
        "Orientation"};
    if (t.group.rfind("IFD", 0) == 0 && tiff_page.count(t.name) == 1) return true;
    const auto g = allowed_tags.find(t.group);
    return g != allowed_tags.end() && g->second.count(t.name) == 1;
}

std::string orientation_of(const std::vector<Tag>& tags) {
    for (const auto& t : tags) {
        if (t.group == "IFD0" && t.name == "Orientation") return t.value;
    }
    return "";
}

bool contains(ByteView hay, const std::string& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

void require_tools() {
    for (const char* tool : {"exiftool", "compare", "identify", "djpeg", "dwebp", "webpmux", "webpinfo"}) {
        INFO("missing " << tool << ": run scripts/setup.sh (the corpus tests never skip)");
        REQUIRE(have_tool(tool));
    }
}

// Number of frames (1 for a still image), as ImageMagick counts them.
int frame_count(const std::filesystem::path& file) {
    const auto r = run_command("identify -format '%n\\n' " + quoted(file) + " 2>/dev/null | head -n 1");
    REQUIRE(r.exit_code == 0);
    return std::stoi(r.output);
}

// Decodes with a second decoder (libjpeg-turbo's djpeg, libwebp's dwebp, ImageMagick for PNG)
// into one file per image and returns its bytes. Animated WebP: each frame is taken out with
// webpmux and decoded by dwebp.
Bytes decode(const std::filesystem::path& in, const std::filesystem::path& out, ImageType type, int frames) {
    Bytes all;
    for (int f = 1; f <= frames; ++f) {
        std::string cmd;
        if (type == ImageType::jpeg) cmd = "djpeg -outfile " + quoted(out) + " " + quoted(in);
        if (type == ImageType::png) cmd = "convert " + quoted(in) + " -depth 16 RGBA:" + quoted(out);
        if (type == ImageType::webp && frames == 1) cmd = "dwebp -quiet -pam " + quoted(in) + " -o " + quoted(out);
        // TIFF and GIF: ImageMagick's pixel signature of every page or frame (compare, above,
        // decodes with ImageMagick too; libtiff and giflib have no command-line decoders here).
        if ((type == ImageType::tiff || type == ImageType::gif) && f == 1) {
            cmd = "identify -format '%#\\n' " + quoted(in) + " > " + quoted(out);
        } else if (type == ImageType::tiff || type == ImageType::gif) {
            continue;
        }
        if (type == ImageType::webp && frames > 1) {
            cmd = "webpmux -get frame " + std::to_string(f) + " " + quoted(in) + " -o " + quoted(std::filesystem::path(out.string() + ".webp")) +
                  " >/dev/null && dwebp -quiet -pam " + quoted(std::filesystem::path(out.string() + ".webp")) + " -o " + quoted(out);
        }
        const auto r = run_command(cmd);
        INFO(cmd << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        const Bytes b = read_file(out);
        all.insert(all.end(), b.begin(), b.end());
    }
    return all;
}

void check_corpus_file(const std::filesystem::path& original) {
    INFO("corpus file " << original.filename().string());
    TempDir tmp("corpus-" + original.filename().string());
    const Bytes in = read_file(original);
    Attachment a{in, "application/octet-stream"};
    const ProcessReport report = MetadataStripper(StripperConfig{}).process(a);
    REQUIRE(report.outcome == Outcome::processed);
    const auto stripped = tmp / ("stripped" + original.extension().string());
    write_file(stripped, a.bytes);

    // 1. exiftool sees nothing but structure, orientation and the colour profile.
    const auto before = exiftool_tags(original);
    const auto after = exiftool_tags(stripped);
    for (const auto& t : after) {
        INFO("left after stripping: [" << t.group << "] " << t.name << " : " << t.value);
        CHECK(tag_allowed(t));
    }
    // The orientation is the one field kept, with its value.
    CHECK(orientation_of(after) == orientation_of(before));
    // The colour profile is kept when there was one.
    const auto has_icc = [](const std::vector<Tag>& tags) {
        return std::any_of(tags.begin(), tags.end(), [](const Tag& t) { return t.name == "ProfileDescription"; });
    };
    CHECK(has_icc(after) == has_icc(before));

    // 2. No identifying string survives anywhere in the bytes.
    for (const auto& s : identifying) {
        INFO("identifying string left: " << s);
        CHECK_FALSE(contains(a.bytes, s));
    }

    // 3. Same pixels: ImageMagick's count of differing pixels is 0 in every frame ...
    const int frames = frame_count(original);
    CHECK(frame_count(stripped) == frames);
    for (int f = 0; f < frames; ++f) {
        const std::string index = "[" + std::to_string(f) + "]";
        const auto cmp = run_command("compare -metric AE " + quoted(std::filesystem::path(original.string() + index)) + " " +
                                     quoted(std::filesystem::path(stripped.string() + index)) + " null:");
        INFO("compare frame " << f << ": " << cmp.output);
        CHECK(cmp.exit_code == 0);
        CHECK(cmp.output.rfind("0", 0) == 0);
    }
    // ... and a second decoder gives byte-identical output (CMYK JPEG: djpeg cannot write it).
    const ImageType type = sniff_image_type(in);
    if (!(type == ImageType::jpeg && original.filename().string().find("cmyk") != std::string::npos)) {
        CHECK(decode(original, tmp / "a.raw", type, frames) == decode(stripped, tmp / "b.raw", type, frames));
    }
    // libwebp's own checker accepts the rewritten container (chunk sizes, VP8X flags).
    if (type == ImageType::webp) {
        const auto info = run_command("webpinfo -quiet " + quoted(stripped));
        INFO("webpinfo: " << info.output);
        CHECK(info.exit_code == 0);
    }

    // 4. Stripping is idempotent: a second pass changes nothing.
    Attachment again{a.bytes, a.mime_type};
    MetadataStripper(StripperConfig{}).process(again);
    CHECK(again.bytes == a.bytes);
}

}  // namespace

TEST_CASE("attachments - corpus JPEGs keep pixels and lose metadata", "[attachments]") {
    require_tools();
    const auto files = corpus_files("jpeg");
    REQUIRE(files.size() >= 5);
    for (const auto& f : files) check_corpus_file(f);
}

TEST_CASE("attachments - corpus PNGs keep pixels and lose metadata", "[attachments]") {
    require_tools();
    const auto files = corpus_files("png");
    REQUIRE(files.size() >= 2);
    for (const auto& f : files) check_corpus_file(f);
}

TEST_CASE("attachments - corpus WebPs keep pixels and lose metadata", "[attachments]") {
    require_tools();
    const auto files = corpus_files("webp");
    REQUIRE(files.size() >= 4);
    for (const auto& f : files) check_corpus_file(f);
}

TEST_CASE("attachments - corpus TIFFs keep every page's pixels and lose metadata", "[attachments]") {
    require_tools();
    const auto files = corpus_files("tiff");
    REQUIRE(files.size() >= 3);
    for (const auto& f : files) check_corpus_file(f);
}

TEST_CASE("attachments - corpus GIFs keep every frame and lose metadata", "[attachments]") {
    require_tools();
    const auto files = corpus_files("gif");
    REQUIRE(files.size() >= 2);
    for (const auto& f : files) check_corpus_file(f);
}

TEST_CASE("attachments - the corpus really carries the metadata it is meant to", "[attachments]") {
    require_tools();
    // Guards the corpus itself: if these were missing, the tests above would prove nothing.
    const auto groups_of = [](const std::filesystem::path& f) {
        std::set<std::string> g;
        for (const auto& t : exiftool_tags(f)) g.insert(t.group + ":" + t.name);
        return g;
    };
    const auto jpeg = groups_of(corpus_dir() / "jpeg/baseline-full.jpg");
    for (const char* want : {"GPS:GPSLatitude", "Nikon:SerialNumber", "XMP-dc:Creator", "IPTC:By-line",
                             "ICC_Profile:ProfileDescription", "IFD1:ThumbnailImage", "File:Comment",
                             "IFD0:Orientation", "ExifIFD:SerialNumber"}) {
        INFO(want);
        CHECK(jpeg.count(want) == 1);
    }
    const auto png = groups_of(corpus_dir() / "png/rgb-full.png");
    for (const char* want : {"PNG:ModifyDate", "PNG:Author", "IFD0:Make", "XMP-dc:Creator", "ICC_Profile:ProfileDescription"}) {
        INFO(want);
        CHECK(png.count(want) == 1);
    }
    const auto webp = groups_of(corpus_dir() / "webp/lossy-full.webp");
    for (const char* want : {"GPS:GPSLatitude", "XMP-dc:Creator", "ICC_Profile:ProfileDescription", "IFD0:Orientation"}) {
        INFO(want);
        CHECK(webp.count(want) == 1);
    }
    const auto tiff = groups_of(corpus_dir() / "tiff/pages-lzw-full.tif");
    for (const char* want : {"GPS:GPSLatitude", "XMP-dc:Creator", "IPTC:By-line", "IFD0:Artist", "IFD1:Artist",
                             "IFD0:HostComputer", "ExifIFD:SerialNumber", "SubIFD:ImageWidth", "IFD0:Orientation"}) {
        INFO(want);
        CHECK(tiff.count(want) == 1);
    }
    const auto gif = groups_of(corpus_dir() / "gif/animated-full.gif");
    for (const char* want : {"File:Comment", "XMP-dc:Creator", "GIF:AnimationIterations"}) {
        INFO(want);
        CHECK(gif.count(want) == 1);
    }
    const auto progressive = exiftool_tags(corpus_dir() / "jpeg/progressive-full.jpg");
    CHECK(std::any_of(progressive.begin(), progressive.end(),
                      [](const Tag& t) { return t.name == "EncodingProcess" && t.value.find("Progressive") != std::string::npos; }));
}

TEST_CASE("attachments - with orientation dropped no EXIF is left at all", "[attachments]") {
    require_tools();
    StripperConfig config;
    config.orientation = OrientationMode::drop;
    for (const char* f : {"jpeg/baseline-full.jpg", "png/rgb-full.png", "webp/lossy-full.webp", "webp/animated-full.webp"}) {
        INFO(f);
        TempDir tmp(std::string("drop-") + std::filesystem::path(f).filename().string());
        Attachment a{read_file(corpus_dir() / f), ""};
        MetadataStripper(config).process(a);
        const auto out = tmp / std::filesystem::path(f).filename().string();
        write_file(out, a.bytes);
        for (const auto& t : exiftool_tags(out)) {
            INFO("[" << t.group << "] " << t.name);
            CHECK(t.group != "IFD0");
            CHECK(t.name != "ExifByteOrder");
            CHECK(tag_allowed(t));
        }
        const auto info = sniff_image_type(a.bytes) == ImageType::webp ? run_command("webpinfo -quiet " + quoted(out)) : CommandResult{0, ""};
        CHECK(info.exit_code == 0);
    }
}
