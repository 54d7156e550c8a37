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
    bool tiff = true;
    bool gif = true;
    bool heif = true;  ///< HEIC/HEIF and AVIF
    bool mp4 = true;   ///< MP4, MOV and M4A
    OrientationMode orientation = OrientationMode::keep;
};

/// Removes metadata from JPEG, PNG, WebP, TIFF, GIF, HEIF/AVIF and MP4/MOV/M4A. The format is
/// judged by content. No silent leaks: an image, video or audio file it does not rewrite (another
/// format, or one disabled in the config) is refused unless the sender asked to keep its
/// metadata; so is a file that does not parse, and one declared as a rewritten type whose content
/// is not. Documents and unrecognised content pass untouched, and the report says their contents
/// were not changed. With keep_metadata every file passes untouched.
class MetadataStripper final : public Processor {
public:
    explicit MetadataStripper(StripperConfig config) : config_(config) {}
    [[nodiscard]] std::string_view name() const override { return "strip-metadata"; }
    ProcessReport process(Attachment& a) const override;

private:
    [[nodiscard]] bool enabled(ImageType t) const;
    StripperConfig config_;
};

/// Strips one file of a rewritten type (jpeg, png, webp, tiff, gif or an ISO BMFF type) into out.
/// Throws FormatError.
void strip_image(ImageType type, ByteView in, const StripOptions& options, StripResult& out);

}  // namespace veil::exif_strip
