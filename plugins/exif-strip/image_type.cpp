#include "image_type.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace veil::exif_strip {
namespace {

bool has(ByteView d, std::size_t at, std::string_view magic) {
    return d.size() >= at + magic.size() && std::memcmp(d.data() + at, magic.data(), magic.size()) == 0;
}

using namespace std::string_view_literals;

// Formats recognised but not rewritten. Media first: their metadata stays in, so they are
// refused unless the sender asks to keep it. Documents go as files.
struct Magic final {
    std::size_t at;
    std::string_view bytes;
    std::string_view kind;
    ImageType type;
};
constexpr std::array<Magic, 39> magics = {{
    {4, "ftypcrx "sv, "Canon CR3 raw image", ImageType::other_media},
    {4, "ftyp"sv, "ISO media of an unknown brand", ImageType::other_media},
    // QuickTime files that open with a preview, user data or a vendor box: not stripped, refused.
    {4, "pnot"sv, "QuickTime movie", ImageType::other_media},
    {4, "udta"sv, "QuickTime movie", ImageType::other_media},
    {4, "uuid"sv, "ISO media", ImageType::other_media},
    {0, "BM"sv, "BMP image", ImageType::other_media},
    {0, "8BPS"sv, "Photoshop image", ImageType::other_media},
    {0, "\0\0\0\x0CjP  "sv, "JPEG 2000 image", ImageType::other_media},
    {0, "\xFF\x0A"sv, "JPEG XL image", ImageType::other_media},
    {0, "\0\0\0\x0CJXL "sv, "JPEG XL image", ImageType::other_media},
    {0, "IIRO"sv, "Olympus raw image", ImageType::other_media},
    {0, "IIU\0"sv, "Panasonic raw image", ImageType::other_media},
    {0, "FUJIFILMCCD-RAW"sv, "Fuji RAF raw image", ImageType::other_media},
    {6, "HEAPCCDR"sv, "Canon CRW raw image", ImageType::other_media},
    {0, "\0\0\x01\0"sv, "ICO image", ImageType::other_media},
    {0, "fLaC"sv, "FLAC audio", ImageType::other_media},
    {0, "OggS"sv, "Ogg audio/video", ImageType::other_media},
    {0, "ID3"sv, "MP3 audio", ImageType::other_media},
    {0, "\x1A\x45\xDF\xA3"sv, "Matroska/WebM video", ImageType::other_media},
    {0, "FORM"sv, "AIFF audio", ImageType::other_media},
    {0, "#!AMR"sv, "AMR audio", ImageType::other_media},
    {0, "caff"sv, "CAF audio", ImageType::other_media},
    {0, "RF64"sv, "RF64 audio", ImageType::other_media},
    {0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11"sv, "ASF/WMV/WMA media", ImageType::other_media},
    {0, "\0\0\x01\xBA"sv, "MPEG video", ImageType::other_media},
    {0, "FLV"sv, "Flash video", ImageType::other_media},
    {0, "%PDF-"sv, "PDF document", ImageType::document},
    {0, "PK\x03\x04"sv, "ZIP archive or office document", ImageType::document},
    {0, "PK\x05\x06"sv, "ZIP archive (empty)", ImageType::document},
    {0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv, "office document (OLE)", ImageType::document},
    {0, "\x1F\x8B"sv, "gzip-compressed tar archive", ImageType::document},
    {0, "7z\xBC\xAF\x27\x1C"sv, "7-Zip archive", ImageType::document},
    {0, "BZh"sv, "bzip2 archive", ImageType::document},
    {0, "\xFD""7zXZ\0"sv, "xz archive", ImageType::document},
    {0, "\x28\xB5\x2F\xFD"sv, "zstd archive", ImageType::document},
    {0, "Rar!\x1A\x07"sv, "RAR archive", ImageType::document},
    {257, "ustar"sv, "tar archive", ImageType::document},
    {0, "{\\rtf"sv, "RTF document", ImageType::document},
    {0, "AT&TFORM"sv, "DjVu document", ImageType::document},
}};

// MPEG transport streams: a sync byte every 188 bytes (M2TS: 192, after a 4-byte timestamp).
bool is_transport_stream(ByteView d, std::size_t first, std::size_t stride) {
    if (d.size() < first + 2 * stride + 1) return false;
    return d[first] == 0x47 && d[first + stride] == 0x47 && d[first + 2 * stride] == 0x47;
}

// Plain text: valid UTF-8 (a BOM allowed) with no control characters but tab, line feed,
// form feed and carriage return. Checked over the whole file: one binary byte makes it unknown.
bool is_plain_text(ByteView d) {
    std::size_t i = has(d, 0, "\xEF\xBB\xBF") ? 3 : 0;
    while (i < d.size()) {
        const std::uint8_t c = d[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
            if (c == 0x7F) return false;
            ++i;
            continue;
        }
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1Fu; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0Fu; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07u; }
        else return false;
        if (d.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if ((d[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d[i + k] & 0x3Fu);
        }
        static constexpr std::array<std::uint32_t, 4> min_of = {0, 0x80, 0x800, 0x10000};
        if (cp < min_of[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, surrogate
        i += n + 1;
    }
    return true;
}

// The root element is looked for in the first 64 KiB only: a prolog of comments, processing
// instructions and DOCTYPEs longer than that is not an ordinary document.
constexpr std::size_t xml_prolog_limit = 64 * 1024;

// Where a DOCTYPE that starts before `i` ends (past its '>'), or x.size() if it does not. Its
// external id and internal subset [...] may hold '>', ']' and '[' inside quoted literals (an
// ENTITY value "a]b>"), comments and processing instructions, which are skipped whole: ending
// the scan at such a ']' would take the rest of the subset for the root element. Linear: each
// step moves past what it found.
std::size_t doctype_end(std::string_view x, std::size_t i) {
    const auto past = [&](std::string_view end) {
        const std::size_t at = x.find(end, i);
        return at == std::string_view::npos ? x.size() : at + end.size();
    };
    bool subset = false;
    while (i < x.size()) {
        const char c = x[i];
        if (c == '"' || c == '\'') {
            ++i;
            i = past(std::string_view(&c, 1));
        } else if (subset && x.substr(i, 4) == "<!--") {
            i = past("-->");
        } else if (subset && x.substr(i, 2) == "<?") {
            i = past("?>");
        } else if (c == '[' && !subset) {
            subset = true;
            ++i;
        } else if (c == ']' && subset) {
            subset = false;
            ++i;
        } else if (c == '>' && !subset) {
            return i + 1;
        } else {
            ++i;
        }
    }
    return x.size();
}

// The name of the root element of an XML text (after a BOM, the declaration, processing
// instructions, comments and a DOCTYPE with its internal subset), "" when there is none, or
// nullopt when the prolog runs past xml_prolog_limit. Every search starts at i and moves i past
// what it found, and '[' is looked for only before the tag's '>': linear in the prefix read.
std::optional<std::string_view> xml_root(std::string_view all) {
    const std::string_view x = all.substr(0, xml_prolog_limit);
    std::size_t i = x.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
    const auto skip_past = [&](std::string_view end) {
        const std::size_t at = x.find(end, i);
        i = at == std::string_view::npos ? x.size() : at + end.size();
    };
    while (i < x.size()) {
        if (std::isspace(static_cast<unsigned char>(x[i])) != 0) {
            ++i;
        } else if (x.substr(i, 4) == "<!--") {
            skip_past("-->");
        } else if (x.substr(i, 2) == "<?") {
            skip_past("?>");
        } else if (x.substr(i, 2) == "<!") {
            i = doctype_end(x, i + 2);
        } else if (x[i] == '<') {
            const std::size_t end = x.find_first_of(" \t\r\n/>", i + 1);
            if (end == std::string_view::npos && all.size() > x.size()) return std::nullopt;  // name cut by the limit
            return x.substr(i + 1, (end == std::string_view::npos ? x.size() : end) - i - 1);
        } else {
            return std::string_view{};
        }
    }
    if (all.size() > x.size()) return std::nullopt;
    return std::string_view{};
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// SVG is text, but XML that carries <metadata> (RDF: author, licence), editor attributes
// (sodipodi:docname, inkscape:export-filename: local paths) and comments. Rewriting XML safely
// is a parser's job, so SVG is refused like other media it cannot strip. Recognised by its root
// element under any namespace prefix (<svg>, <ns0:svg>), or an <svg element or the SVG
// namespace near the start (inline SVG in other XML).
bool is_svg(ByteView d) {
    const std::string_view all(reinterpret_cast<const char*>(d.data()), d.size());
    const std::optional<std::string_view> found = xml_root(all);
    if (!found) return true;  // no root within the limit: refused like SVG rather than sent with unread metadata
    const std::string_view root = *found;
    const std::size_t colon = root.rfind(':');
    if (iequals(colon == std::string_view::npos ? root : root.substr(colon + 1), "svg")) return true;
    const std::string_view head = all.substr(0, 4096);
    return head.find("<svg") != std::string_view::npos || head.find("http://www.w3.org/2000/svg") != std::string_view::npos;
}

// gzip: a compressed SVG (SVGZ) keeps all of SVG's metadata, so only a compressed tar archive
// (ustar magic in its first block) passes as a document; other gzip content cannot be checked
// here and is refused like media. Inflates at most the first 4 KiB.
bool is_gzipped_tar(ByteView d) {
    std::array<std::uint8_t, 4096> head{};
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
    z.next_in = const_cast<Bytef*>(d.data());
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(d.size(), 1 << 20));
    z.next_out = head.data();
    z.avail_out = static_cast<uInt>(head.size());
    inflate(&z, Z_SYNC_FLUSH);
    const std::size_t n = head.size() - z.avail_out;
    inflateEnd(&z);
    return n >= 262 && has(ByteView(head.data(), n), 257, "ustar");
}

const Magic* find_magic(ByteView d) {
    if (has(d, 0, "RIFF") && has(d, 8, "WAVE")) {
        static constexpr Magic wav{0, "RIFF"sv, "WAV audio", ImageType::other_media};
        return &wav;
    }
    if (has(d, 0, "RIFF") && has(d, 8, "AVI ")) {
        static constexpr Magic avi{0, "RIFF"sv, "AVI video", ImageType::other_media};
        return &avi;
    }
    if (is_transport_stream(d, 0, 188) || is_transport_stream(d, 4, 192)) {
        static constexpr Magic ts{0, "G"sv, "MPEG-TS/M2TS video", ImageType::other_media};
        return &ts;
    }
    // An MP3 without an ID3 tag starts with a frame header: 11 sync bits, a layer, and a
    // valid bitrate and sample rate. ADTS (AAC) has layer 0 and a sampling index below 13.
    if (d.size() >= 3 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0 && (d[1] & 0x06) != 0 && (d[2] & 0xF0) != 0xF0 &&
        (d[2] & 0x0C) != 0x0C) {
        static constexpr Magic mp3{0, "\xFF"sv, "MP3 audio", ImageType::other_media};
        return &mp3;
    }
    if (d.size() >= 3 && d[0] == 0xFF && (d[1] & 0xF6) == 0xF0 && ((d[2] >> 2) & 0x0F) < 13) {
        static constexpr Magic adts{0, "\xFF"sv, "ADTS AAC audio", ImageType::other_media};
        return &adts;
    }
    // TGA has no leading magic; version 2 files end with this footer. Older ones are unknown.
    if (d.size() >= 44 && has(d, d.size() - 18, "TRUEVISION-XFILE.\0"sv)) {
        static constexpr Magic tga{0, ""sv, "TGA image", ImageType::other_media};
        return &tga;
    }
    if (has(d, 0, "\x1F\x8B"sv) && !is_gzipped_tar(d)) {
        static constexpr Magic gzip{0, "\x1F\x8B"sv, "gzip-compressed file (SVGZ or other content that cannot be checked)", ImageType::other_media};
        return &gzip;
    }
    for (const auto& m : magics)
        if (has(d, m.at, m.bytes)) return &m;
    if (is_plain_text(d)) {
        static constexpr Magic svg{0, ""sv, "SVG image", ImageType::other_media};
        static constexpr Magic text{0, ""sv, "plain text", ImageType::document};
        return is_svg(d) ? &svg : &text;
    }
    return nullptr;
}

bool is_one_of(std::string_view brand, std::initializer_list<std::string_view> brands) {
    for (const auto b : brands) {
        if (brand == b) return true;
    }
    return false;
}

// ISO BMFF: the major brand of the 'ftyp' box decides, a HEIF structural brand (mif1, msf1)
// with a compatible avif/avis brand is AVIF. An unknown brand is unknown.
ImageType sniff_bmff(ByteView d) {
    // Old QuickTime files have no ftyp; players also accept a free or skip box first.
    for (const auto first : {"moov", "mdat", "wide", "free", "skip"})
        if (has(d, 4, first)) return ImageType::mov;
    // A media segment (styp) has the brands of an ftyp; the stripper refuses it without a moov.
    if ((!has(d, 4, "ftyp") && !has(d, 4, "styp")) || d.size() < 12) return ImageType::unknown;
    const auto brand_at = [&](std::size_t at) { return std::string_view(reinterpret_cast<const char*>(d.data() + at), 4); };
    const std::string_view major = brand_at(8);
    if (is_one_of(major, {"avif", "avis"})) return ImageType::avif;
    if (is_one_of(major, {"mif1", "msf1", "miaf", "mif2"})) {
        const std::size_t end = std::min<std::size_t>(d.size(), (std::size_t{d[0]} << 24 | std::size_t{d[1]} << 16 | std::size_t{d[2]} << 8 | d[3]));
        for (std::size_t at = 16; at + 4 <= end; at += 4) {
            if (is_one_of(brand_at(at), {"avif", "avis"})) return ImageType::avif;
        }
        return ImageType::heif;
    }
    if (is_one_of(major, {"heic", "heix", "heim", "heis", "hevc", "hevx"})) return ImageType::heif;
    if (major == "qt  ") return ImageType::mov;
    if (is_one_of(major, {"M4A ", "M4B ", "M4P "})) return ImageType::m4a;
    if (is_one_of(major, {"isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "MSNV", "mmp4", "3gp4",
                          "3gp5", "3gp6", "3g2a", "dash", "f4v ", "msdh", "msix", "cmfc", "cmfs",
                          "XAVC"})) {  // XAVC: Sony cameras and Xperia phones (mp42-compatible)
        return ImageType::mp4;
    }
    return ImageType::unknown;
}
}  // namespace

ImageType sniff_image_type(ByteView d) {
    if (has(d, 0, "\xFF\xD8\xFF")) return ImageType::jpeg;
    if (has(d, 0, "\x89PNG\r\n\x1A\n")) return ImageType::png;
    if (has(d, 0, "RIFF") && has(d, 8, "WEBP")) return ImageType::webp;
    if (has(d, 0, "GIF8")) return ImageType::gif;
    if (has(d, 0, "II*\0"sv) || has(d, 0, "MM\0*"sv) || has(d, 0, "II+\0"sv) || has(d, 0, "MM\0+"sv)) return ImageType::tiff;
    if (const ImageType bmff = sniff_bmff(d); bmff != ImageType::unknown) return bmff;
    const Magic* m = find_magic(d);
    return m ? m->type : ImageType::unknown;
}

std::string_view content_kind(ByteView d) {
    const Magic* m = find_magic(d);
    return m ? m->kind : std::string_view{};
}

std::string_view mime_type_of(ImageType type) {
    switch (type) {
        case ImageType::jpeg: return "image/jpeg";
        case ImageType::png: return "image/png";
        case ImageType::webp: return "image/webp";
        case ImageType::tiff: return "image/tiff";
        case ImageType::gif: return "image/gif";
        case ImageType::heif: return "image/heic";
        case ImageType::avif: return "image/avif";
        case ImageType::mp4: return "video/mp4";
        case ImageType::mov: return "video/quicktime";
        case ImageType::m4a: return "audio/mp4";
        default: return "";
    }
}

ImageType image_type_of_mime(std::string_view mime) {
    if (mime == "image/jpeg" || mime == "image/jpg" || mime == "image/pjpeg") return ImageType::jpeg;
    if (mime == "image/png" || mime == "image/apng") return ImageType::png;
    if (mime == "image/webp") return ImageType::webp;
    if (mime == "image/tiff") return ImageType::tiff;
    if (mime == "image/gif") return ImageType::gif;
    if (mime == "image/heic" || mime == "image/heif" || mime == "image/heic-sequence" || mime == "image/heif-sequence") return ImageType::heif;
    if (mime == "image/avif") return ImageType::avif;
    if (mime == "video/mp4") return ImageType::mp4;
    if (mime == "video/quicktime") return ImageType::mov;
    if (mime == "audio/mp4" || mime == "audio/m4a" || mime == "audio/x-m4a") return ImageType::m4a;
    return ImageType::unknown;
}

std::string_view name_of(ImageType type) {
    switch (type) {
        case ImageType::jpeg: return "jpeg";
        case ImageType::png: return "png";
        case ImageType::webp: return "webp";
        case ImageType::tiff: return "tiff";
        case ImageType::gif: return "gif";
        case ImageType::other_media: return "other media";
        case ImageType::document: return "document";
        case ImageType::heif: return "heif";
        case ImageType::avif: return "avif";
        case ImageType::mp4: return "mp4";
        case ImageType::mov: return "mov";
        case ImageType::m4a: return "m4a";
        default: return "unknown";
    }
}

}  // namespace veil::exif_strip
