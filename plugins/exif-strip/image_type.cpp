#include "image_type.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace veil::exif_strip {
namespace {
bool has(ByteView d, std::size_t at, std::string_view magic) {
    return d.size() >= at + magic.size() && std::memcmp(d.data() + at, magic.data(), magic.size()) == 0;
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
    if (has(d, 4, "moov") || has(d, 4, "mdat") || has(d, 4, "wide")) return ImageType::mov;
    if (!has(d, 4, "ftyp") || d.size() < 12) return ImageType::unknown;
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
                          "3gp5", "3gp6", "3g2a", "dash", "f4v "})) {
        return ImageType::mp4;
    }
    return ImageType::unknown;
}
}  // namespace

ImageType sniff_image_type(ByteView d) {
    if (has(d, 0, "\xFF\xD8\xFF")) return ImageType::jpeg;
    if (has(d, 0, "\x89PNG\r\n\x1A\n")) return ImageType::png;
    if (has(d, 0, "RIFF") && has(d, 8, "WEBP")) return ImageType::webp;
    if (const ImageType bmff = sniff_bmff(d); bmff != ImageType::unknown) return bmff;
    if (has(d, 0, "GIF8") || has(d, 0, "II*\0") || has(d, 0, "MM\0*") || has(d, 0, "BM") || has(d, 4, "ftyp")) {
        return ImageType::other_image;
    }
    return ImageType::unknown;
}

std::string_view mime_type_of(ImageType type) {
    switch (type) {
        case ImageType::jpeg: return "image/jpeg";
        case ImageType::png: return "image/png";
        case ImageType::webp: return "image/webp";
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
        case ImageType::heif: return "heif";
        case ImageType::avif: return "avif";
        case ImageType::mp4: return "mp4";
        case ImageType::mov: return "mov";
        case ImageType::m4a: return "m4a";
        case ImageType::other_image: return "other image";
        default: return "unknown";
    }
}

}  // namespace veil::exif_strip
