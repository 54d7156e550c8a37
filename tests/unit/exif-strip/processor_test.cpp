// The exif-strip processor and the processor chain: type sniffing, pass-through, refusals.

#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstring>
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

// A TGA 2.0 file: an 18-byte header, 2x1 pixels, then the footer that names the format.
Bytes cat_tga() {
    Bytes t{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 24, 0, 1, 2, 3, 4, 5, 6};
    const Bytes footer = lit("\0\0\0\0\0\0\0\0TRUEVISION-XFILE.\0");
    t.insert(t.end(), footer.begin(), footer.end());
    return t;
}
// Three transport stream packets (sync byte 0x47 every `stride` bytes from `first`).
Bytes transport_stream(std::size_t first, std::size_t stride) {
    Bytes ts(first + 3 * stride, 0xFF);
    for (std::size_t i = 0; i < 3; ++i) ts[first + i * stride] = 0x47;
    return ts;
}
}  // namespace

TEST_CASE("attachments - documents known by content go unchanged and the sender is told", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    Attachment a{text("hello, not an image\n\tcaf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\r\n"), "text/plain"};
    const Bytes original = a.bytes;
    const auto report = stripper.process(a);
    CHECK(report.outcome == Outcome::passed_through);
    CHECK(report.detail.find("plain text: sent as a file, its contents are not changed") != std::string::npos);
    CHECK(a.bytes == original);

    const Bytes pdf = text("%PDF-1.7\n1 0 obj << /Author (Alice Example) >> endobj\n%%EOF\n");
    Attachment doc{pdf, "application/pdf"};
    CHECK(stripper.process(doc).detail.find("PDF document: sent as a file, its contents are not changed") != std::string::npos);
    CHECK(doc.bytes == pdf);
    Attachment zip{text("PK\x03\x04 word/document.xml"), ""};
    CHECK(stripper.process(zip).detail.find("office document") != std::string::npos);
    Bytes tar(512, 0);
    std::memcpy(&tar[257], "ustar", 5);
    Attachment tarball{tar, ""};
    CHECK(stripper.process(tarball).detail.find("tar archive") != std::string::npos);
}

TEST_CASE("attachments - unrecognised content is refused unless kept on request", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    // Binary of no known type (an old TGA, a raw dump...), text with a NUL or a bad UTF-8
    // sequence (overlong, surrogate, cut): not known to be a document, so never sent blindly.
    for (const Bytes& unknown : {Bytes{0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x20, 0x00},
                                 lit("text with a NUL\0 inside"), text("overlong \xC0\xAF"), text("surrogate \xED\xA0\x80"),
                                 text("cut \xE2\x82"), text("bell \x07")}) {
        Attachment a{unknown, "application/octet-stream"};
        CHECK_THROWS_WITH(stripper.process(a), Catch::Contains("unrecognised content") && Catch::Contains("--keep-metadata"));
        Attachment kept{unknown, "", true};
        const auto report = stripper.process(kept);
        CHECK(report.outcome == Outcome::passed_through);
        CHECK(report.detail.find("unrecognised content, metadata kept at the sender's request") != std::string::npos);
        CHECK(kept.bytes == unknown);
    }
}

TEST_CASE("attachments - media whose metadata cannot be removed is refused unless kept on request", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    const std::vector<std::pair<Bytes, std::string>> media = {
        {lit("fLaC\0\0\0\x22 ARTIST=Alice Example"), "FLAC audio"},
        {Bytes{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01}, "Matroska/WebM video"},
        {lit("ID3\x04\0\0\0\0\0\x10TPE1 Alice"), "MP3 audio"},
        {lit("RIFF\x24\0\0\0WAVEfmt "), "WAV audio"},
        {lit("BM\x3A\0\0\0\0\0\0\0"), "BMP image"},
        {lit("\0\0\0\x18" "ftypcrx \0\0\0\0"), "Canon CR3 raw image"},
        {lit("\0\0\0\x18" "ftypabcd\0\0\0\0"), "ISO media of an unknown brand"},  // HEIC/MP4/... are stripped
        {lit("FUJIFILMCCD-RAW 0201FF383501"), "Fuji RAF raw image"},
        {lit("II\x1A\0\0\0HEAPCCDR\0\0\x01\0"), "Canon CRW raw image"},
        {lit("caff\0\x01\0\0desc"), "CAF audio"},
        {lit("RF64\xFF\xFF\xFF\xFFWAVEds64"), "RF64 audio"},
        {Bytes{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, "ADTS AAC audio"},
        {text("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><metadata>Alice</metadata></svg>\n"), "SVG image"},
        {cat_tga(), "TGA image"},
        {transport_stream(0, 188), "MPEG-TS/M2TS video"},
        {transport_stream(4, 192), "MPEG-TS/M2TS video"},
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

namespace {
Bytes gzipped(const Bytes& in) {
    Bytes out(in.size() + 1024);
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
}  // namespace

// Review of issue 22 (LOW): SVG was found only as "<svg" in the first 4 KB, so <ns0:svg> or a
// long comment first, or an SVGZ (gzip), went as a document with its metadata.
TEST_CASE("attachments - SVG is found by its root element under any prefix, SVGZ is refused", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    const std::string comment = "<!-- " + std::string(5000, 'c') + " -->\n";
    const std::string prefixed = "<?xml version=\"1.0\"?>\n" + comment +
                                 "<!DOCTYPE x [ <!ENTITY a \"<svg>\"> ]>\n<ns0:svg xmlns:ns0=\"urn:x\"><ns0:metadata>Alice</ns0:metadata></ns0:svg>\n";
    const Bytes svgz = gzipped(text("<svg xmlns=\"http://www.w3.org/2000/svg\"><metadata>Alice</metadata></svg>"));
    for (const auto& [bytes, kind] : std::vector<std::pair<Bytes, std::string>>{{text(prefixed), "SVG image"},
                                                                                 {text("\xEF\xBB\xBF <SVG>Alice</SVG>"), "SVG image"},
                                                                                 {svgz, "gzip-compressed file"}}) {
        INFO(kind);
        Attachment refused{bytes, ""};
        CHECK_THROWS_WITH(stripper.process(refused), Catch::Contains(kind) && Catch::Contains("--keep-metadata"));
        Attachment kept{bytes, "", true};
        CHECK(stripper.process(kept).outcome == Outcome::passed_through);
    }
    // A compressed tar archive is a document; XML with another root is text.
    Bytes tar(1024, 0);
    std::memcpy(tar.data(), "notes.txt", 9);
    std::memcpy(tar.data() + 257, "ustar", 5);
    Attachment tgz{gzipped(tar), ""};
    CHECK(stripper.process(tgz).detail.find("gzip-compressed tar archive: sent as a file") != std::string::npos);
    Attachment xml{text("<?xml version=\"1.0\"?><notes>svg is a format</notes>"), ""};
    CHECK(stripper.process(xml).outcome == Outcome::passed_through);
}

// Second review of issue 22 (HIGH): every "<!" that did not open a comment searched the rest of
// the file for '[', so 10 MiB of "<!>" took minutes. The root is now looked for in the first
// 64 KiB only, with '[' searched before the tag's '>' only. The bound is observable: a root past
// 64 KiB of prolog is not read, and such a file is refused rather than sent as a document.
TEST_CASE("attachments - the XML root scan reads at most 64 KiB and refuses a longer prolog", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    std::string short_prolog;
    while (short_prolog.size() < 60 * 1024) short_prolog += "<!>";
    Attachment notes{text(short_prolog + "<notes>svg is a format</notes>"), ""};
    CHECK(stripper.process(notes).outcome == Outcome::passed_through);

    std::string long_prolog;
    while (long_prolog.size() < 10 * 1024 * 1024) long_prolog += "<!>";
    Attachment endless{text(long_prolog + "<notes>svg is a format</notes>"), ""};
    CHECK_THROWS_WITH(stripper.process(endless), Catch::Contains("SVG image") && Catch::Contains("--keep-metadata"));
    // A root name cut by the limit is not read as a shorter name.
    const std::string cut = std::string(64 * 1024 - 3, ' ') + "<svg xmlns=\"urn:x\">Alice</svg>";
    Attachment cut_root{text(cut), ""};
    CHECK_THROWS_WITH(stripper.process(cut_root), Catch::Contains("SVG image"));
}

// Third review of issue 22: the DOCTYPE scan ended its internal subset at the first ']', even
// one inside an ENTITY value, and then took the rest of the subset for the root element: a
// prefixed SVG root (or one past the 4 KB "<svg" look-up) went as a text document.
TEST_CASE("attachments - a DOCTYPE subset holding ']' in quoted values and comments is parsed whole", "[attachments]") {
    const MetadataStripper stripper{StripperConfig{}};
    const std::string subset = "<!DOCTYPE x [\n <!ENTITY a \"]\">\n <!ENTITY b 'x]>y'>\n <!-- ] \" ' -->\n <?pi ] ?>\n]>\n";
    const std::string pad = "<!-- " + std::string(5000, 'c') + " -->\n";  // past the 4 KB look-up
    for (const std::string& svg : {subset + "<ns0:svg xmlns:ns0=\"urn:x\"><ns0:metadata>Alice</ns0:metadata></ns0:svg>\n",
                                   pad + subset + "<svg xmlns=\"urn:x\"><metadata>Alice</metadata></svg>\n",
                                   "<!DOCTYPE svg PUBLIC \"-//a]>\" 'b[' [ <!ENTITY c \"]]>\"> ]>" + pad + "<s:svg xmlns:s=\"urn:x\"/>"}) {
        INFO(svg.substr(0, 60));
        Attachment refused{text(svg), ""};
        CHECK_THROWS_WITH(stripper.process(refused), Catch::Contains("SVG image") && Catch::Contains("--keep-metadata"));
    }
    // The same subset before another root is text: the root after it is read, not guessed.
    Attachment notes{text(subset + "<notes>svg is a format</notes>"), ""};
    CHECK(stripper.process(notes).outcome == Outcome::passed_through);
    Attachment unclosed{text("<!DOCTYPE x [ <!ENTITY a \"]>\n<notes>svg is a format</notes>"), ""};
    CHECK(stripper.process(unclosed).outcome == Outcome::passed_through);  // no root at all: not SVG
}
