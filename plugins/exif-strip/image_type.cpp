#include "image_type.hpp"

#include <cstring>

namespace veil::exif_strip {
namespace {
bool has(ByteView d, std::size_t at, std::string_view magic) {
    return d.size() >= at + magic.size() && std::memcmp(d.data() + at, magic.data(), magic.size()) == 0;
}
}  // namespace

ImageType sniff_image_type(ByteView d) {
    if (has(d, 0, "\xFF\xD8\xFF")) return ImageType::jpeg;
    if (has(d, 0, "\x89PNG\r\n\x1A\n")) return ImageType::png;
    if (has(d, 0, "RIFF") && has(d, 8, "WEBP")) return ImageType::webp;
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
        default: return "";
    }
}

ImageType image_type_of_mime(std::string_view mime) {
    if (mime == "image/jpeg" || mime == "image/jpg" || mime == "image/pjpeg") return ImageType::jpeg;
    if (mime == "image/png" || mime == "image/apng") return ImageType::png;
    if (mime == "image/webp") return ImageType::webp;
    return ImageType::unknown;
}

std::string_view name_of(ImageType type) {
    switch (type) {
        case ImageType::jpeg: return "jpeg";
        case ImageType::png: return "png";
        case ImageType::webp: return "webp";
        case ImageType::other_image: return "other image";
        default: return "unknown";
    }
}

}  // namespace veil::exif_strip
