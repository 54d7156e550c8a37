#pragma once
// The exif-strip processor: picks the format stripper by the file's magic bytes.

#include "image_type.hpp"
#include "processor.hpp"

namespace veil::exif_strip {

/// Which formats to rewrite and what to do with the orientation (the plugin's config table).
struct StripperConfig final {
    bool jpeg = true;
    bool png = true;
    bool webp = true;
    bool heif = true;  ///< HEIC/HEIF and AVIF
    bool mp4 = true;   ///< MP4, MOV and M4A
    OrientationMode orientation = OrientationMode::keep;
    /// Refuse GIF/TIFF/HEIF/AVIF/BMP (whose metadata this processor cannot remove) instead of
    /// passing them through.
    bool refuse_other_images = false;
};

/// Removes metadata from JPEG, PNG, WebP, HEIF/AVIF and MP4/MOV/M4A. The format is judged by content: a file declared
/// as one of those types whose content is not a JPEG, PNG or WebP is refused, and so is one
/// that does not parse. Other files (and formats disabled in the config) pass through
/// untouched, and the report says so.
class MetadataStripper final : public Processor {
public:
    explicit MetadataStripper(StripperConfig config) : config_(config) {}
    [[nodiscard]] std::string_view name() const override { return "strip-metadata"; }
    ProcessReport process(Attachment& a) const override;

private:
    [[nodiscard]] bool enabled(ImageType t) const;
    StripperConfig config_;
};

/// Strips one file of a known type (jpeg, png, webp or an ISO BMFF type) into out. Throws FormatError.
void strip_image(ImageType type, ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
