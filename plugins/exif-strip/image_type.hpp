#pragma once
// Recognises a file's format from its first bytes (never from its name or declared type).

#include <string_view>

#include "strip_types.hpp"

namespace veil::exif_strip {

enum class ImageType : std::uint8_t {
    unset = 0,
    jpeg,
    png,
    webp,
    tiff,         ///< classic TIFF (II or MM) and BigTIFF (refused by the TIFF stripper)
    gif,
    heif,         ///< HEIC/HEIF stills and sequences (ISO BMFF, brands heic, mif1, msf1, ...)
    avif,         ///< AVIF stills and sequences (ISO BMFF, brands avif, avis)
    mp4,          ///< MP4 video (ISO BMFF, brands isom, mp41, mp42, ...)
    mov,          ///< QuickTime movie (brand 'qt  ', or an old file without ftyp)
    m4a,          ///< MPEG-4 audio (brands M4A, M4B)
    other_media,  ///< an image, video or audio format this processor does not rewrite
    document,     ///< recognised positively: PDF, office files, archives, plain UTF-8 text
    unknown,      ///< anything else: refused unless the sender keeps its metadata
};

/// The format of data, judged by its magic bytes.
ImageType sniff_image_type(ByteView data);
/// What other_media or document content is, e.g. "FLAC audio", "PDF document"; "" otherwise.
std::string_view content_kind(ByteView data);
/// "image/jpeg" and so on; "" for unknown.
std::string_view mime_type_of(ImageType type);
/// The type a MIME string names among the rewritten formats, or ImageType::unknown.
ImageType image_type_of_mime(std::string_view mime);
/// Short lower-case name: "jpeg", "png", "webp", "tiff", "gif", "heif", "mp4", ..., "other media",
/// "document", "unknown".
std::string_view name_of(ImageType type);

}  // namespace veil::exif_strip
