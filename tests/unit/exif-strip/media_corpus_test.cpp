// The ISO BMFF corpus (scripts/make-media-corpus.sh): after stripping, exiftool finds no GPS,
// author, camera, dates, comments or XMP, no identifying string is left in the bytes, the
// pictures decode to the same pixels (ImageMagick) and the video and audio to the same frames
// (ffmpeg -f framemd5), every truncation is refused, and a second pass changes nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include "bmff_box.hpp"
#include "image_type.hpp"
#include "metadata_stripper.hpp"
#include "test_support.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::test;

namespace {

std::filesystem::path media_dir() { return std::filesystem::path(VEIL_SOURCE_DIR) / "tests/data/media"; }

std::vector<std::filesystem::path> media_files(const std::string& folder) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(media_dir() / folder)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// Strings the corpus script wrote into metadata; none may survive.
const std::vector<std::string> identifying = {"Alice", "NIKON", "3020551", "SN740013", "Paris", "iPhone", "Apple",
                                              "48.858", "+48.85", "Our flat", "PhotoApp", "2026"};

// exiftool groups that only ever hold metadata.
const std::set<std::string> metadata_groups = {"GPS", "IFD0", "IFD1", "ExifIFD", "InteropIFD", "MakerNotes", "Nikon",
                                               "UserData", "Keys", "ItemList", "IPTC", "XMP-x", "XMP-dc", "XMP-exif",
                                               "XMP-photoshop", "XMP-xmp", "XMP-tiff", "XMP-xmpMM", "XMP-rdf"};

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

// A tag that identifies: a metadata group, a GPS value, a date that is not zero, a warning.
bool identifying_tag(const Tag& t) {
    if (t.group == "System" || t.group.rfind("ICC", 0) == 0) return false;  // the file on disk; colour profile
    if (metadata_groups.count(t.group) == 1 || t.group.rfind("XMP", 0) == 0) return true;
    if (t.name.find("GPS") != std::string::npos || t.name == "Warning") return true;
    if (t.name == "OtherName" && !t.value.empty()) return true;  // a timecode track's reel name
    return t.name.find("Date") != std::string::npos && t.value != "0000:00:00 00:00:00";
}

bool contains(ByteView hay, const std::string& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

bool is_picture(ImageType t) { return t == ImageType::heif || t == ImageType::avif; }

// The streams whose samples the stripper zeroes on purpose: every one that is not picture or
// sound (the stripper's handler allow-list: vide, soun, auxv, pict), i.e. timecode (tmcd),
// timed metadata, timed text, subtitles and captions. Every video and audio stream must decode
// the same.
std::set<std::string> zeroed_streams(const std::filesystem::path& file) {
    const auto r = run_command("ffprobe -v error -show_entries stream=index,codec_type -of csv=p=0 " + quoted(file));
    REQUIRE(r.exit_code == 0);
    std::set<std::string> out;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) continue;
        const std::string kind = line.substr(comma + 1);
        if (kind != "video" && kind != "audio") out.insert(line.substr(0, comma));
    }
    return out;
}

// ffmpeg framemd5 output without the lines of the streams zeroed on purpose.
std::string without_streams(const std::string& framemd5, const std::set<std::string>& streams) {
    std::string out;
    std::istringstream in(framemd5);
    for (std::string line; std::getline(in, line);) {
        std::string body = line.rfind("#extradata ", 0) == 0 ? line.substr(11) : line;
        if (body.rfind('#', 0) == 0 && body.find(' ') != std::string::npos) body = body.substr(body.find(' ') + 1);  // "#tb 2: ..."
        const auto end = body.find_first_of(",:");
        if (streams.count(body.substr(0, end)) == 0) out += line + "\n";
    }
    return out;
}

// The decoded content: ImageMagick's RGBA pixels of a picture (libheif), ffmpeg's per-frame
// MD5s of every video and audio stream of a movie.
std::string decoded(const std::filesystem::path& file, ImageType type) {
    const std::string cmd = is_picture(type) ? "convert " + quoted(file) + " -depth 16 rgba:- | md5sum"
                                             : "ffmpeg -v error -i " + quoted(file) + " -map 0 -f framemd5 -";
    const auto r = run_command(cmd);
    INFO(cmd << "\n" << r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.output.size() > 32);
    return is_picture(type) ? r.output : without_streams(r.output, zeroed_streams(file));
}

std::string rotation_of(const std::vector<Tag>& tags) {
    std::string out;
    for (const auto& t : tags) {
        if (t.name == "Rotation" || t.name == "ImageRotation" || t.name == "Mirroring") out += t.name + "=" + t.value + ";";
    }
    return out;
}

void require_tools() {
    for (const char* tool : {"exiftool", "convert", "ffmpeg", "heif-info"}) {
        INFO("missing " << tool << ": run scripts/setup.sh (the corpus tests never skip)");
        REQUIRE(have_tool(tool));
    }
}

void check_media_file(const std::filesystem::path& original) {
    INFO("corpus file " << original.filename().string());
    TempDir tmp("media-" + original.filename().string());
    const Bytes in = read_file(original);
    const ImageType type = sniff_image_type(in);
    Attachment a{in, "application/octet-stream"};
    const ProcessReport report = MetadataStripper(StripperConfig{}).process(a);
    REQUIRE(report.outcome == Outcome::processed);
    CHECK(a.mime_type == std::string(mime_type_of(type)));
    const auto stripped = tmp / ("stripped" + original.extension().string());
    write_file(stripped, a.bytes);

    // 1. exiftool: the original carries metadata; the output has none, and no warning.
    const auto before = exiftool_tags(original);
    CHECK(std::count_if(before.begin(), before.end(), identifying_tag) >= 5);
    const auto after = exiftool_tags(stripped);
    for (const auto& t : after) {
        INFO("left after stripping: [" << t.group << "] " << t.name << " : " << t.value);
        CHECK_FALSE(identifying_tag(t));
    }
    CHECK(rotation_of(after) == rotation_of(before));  // HEIF irot/imir and track matrices are kept

    // 2. No identifying string survives anywhere in the bytes.
    for (const auto& s : identifying) {
        INFO("identifying string left: " << s);
        CHECK_FALSE(contains(a.bytes, s));
    }

    // 3. Same content, decoded; for a picture, libheif sees the same images but no thumbnail.
    CHECK(decoded(stripped, type) == decoded(original, type));
    if (is_picture(type)) {
        const auto info = run_command("heif-info " + quoted(stripped));
        INFO("heif-info: " << info.output);
        CHECK(info.exit_code == 0);
        CHECK(info.output.find("thumbnail") == std::string::npos);
        const bool had_alpha = run_command("heif-info " + quoted(original)).output.find("alpha channel: yes") != std::string::npos;
        CHECK((info.output.find("alpha channel: yes") != std::string::npos) == had_alpha);
    }

    // 4. Idempotent.
    Attachment again{a.bytes, a.mime_type};
    MetadataStripper(StripperConfig{}).process(again);
    CHECK(again.bytes == a.bytes);
}

// Every cut of the file is refused, except at the end of a top-level box after which only
// boxes that hold no content (free space, metadata) followed.
void check_truncations(const std::filesystem::path& file) {
    INFO("corpus file " << file.filename().string());
    const Bytes in = read_file(file);
    std::set<std::size_t> complete;
    std::vector<bmff::Box> top;
    bmff::for_each_box(in, 0, in.size(), "test", [&](const bmff::Box& b) { top.push_back(b); });
    for (std::size_t i = top.size(); i-- > 0;) {
        const auto t = top[i].type;
        if (t != "free" && t != "skip" && t != "udta" && t != "uuid") break;
        complete.insert(top[i].offset);
    }
    // A fragmented movie cut before a fragment (moof) or its random access index (mfra) is a
    // shorter, complete movie.
    for (const auto& b : top) {
        if (b.type == "moof" || b.type == "mfra") complete.insert(b.offset);
    }
    StripResult out;
    std::size_t refused = 0;
    for (std::size_t n = 0; n < in.size(); ++n) {
        try {
            strip_image(sniff_image_type(in), ByteView(in).first(n), StripOptions{}, out);
            INFO("a cut at " << n << " of " << in.size() << " bytes was accepted");
            CHECK(complete.count(n) == 1);
        } catch (const FormatError&) {
            ++refused;
        }
    }
    CHECK(refused >= in.size() - complete.size());
}

}  // namespace

TEST_CASE("attachments - corpus HEIC and AVIF keep pixels and lose metadata", "[attachments]") {
    require_tools();
    const auto heif = media_files("heif");
    const auto avif = media_files("avif");
    REQUIRE(heif.size() >= 3);
    REQUIRE(avif.size() >= 1);
    for (const auto& f : heif) check_media_file(f);
    for (const auto& f : avif) check_media_file(f);
}

TEST_CASE("attachments - corpus MP4, MOV and M4A keep every frame and lose metadata", "[attachments]") {
    require_tools();
    for (const char* folder : {"mp4", "mov", "m4a"}) {
        const auto files = media_files(folder);
        REQUIRE(!files.empty());
        for (const auto& f : files) check_media_file(f);
    }
}

TEST_CASE("attachments - every truncation of a corpus HEIC, AVIF, MP4, MOV or M4A is refused", "[attachments]") {
    for (const char* folder : {"heif", "avif", "mp4", "mov", "m4a"}) {
        for (const auto& f : media_files(folder)) check_truncations(f);
    }
}

TEST_CASE("attachments - the media corpus really carries the metadata it is meant to", "[attachments]") {
    require_tools();
    const auto names = [](const std::filesystem::path& f) {
        std::set<std::string> g;
        for (const auto& t : exiftool_tags(f)) g.insert(t.group + ":" + t.name);
        return g;
    };
    const auto heic = names(media_dir() / "heif/camera-thumbnail.heic");
    for (const char* want : {"GPS:GPSLatitude", "IFD0:Make", "XMP-dc:Creator", "Nikon:SerialNumber", "Meta:MetaImageSize"}) {
        INFO(want);
        CHECK(heic.count(want) == 1);
    }
    const auto mov = names(media_dir() / "mov/iphone-keys.mov");
    for (const char* want : {"Keys:GPSCoordinates", "UserData:GPSCoordinates", "XMP-dc:Creator", "QuickTime:CreateDate",
                             "Keys:Author", "Keys:Location", "Keys:Make"}) {
        INFO(want);
        CHECK(mov.count(want) == 1);
    }
    // The timecode MOV names its reel in the tmcd sample description (exiftool: OtherName).
    const auto tags = exiftool_tags(media_dir() / "mov/timecode-reel.mov");
    CHECK(std::any_of(tags.begin(), tags.end(), [](const Tag& t) { return t.name == "OtherName" && t.value == "Alice MacBook"; }));
}
