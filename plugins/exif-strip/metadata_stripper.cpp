#include "metadata_stripper.hpp"

#include "bmff_strip.hpp"
#include "jpeg_strip.hpp"
#include "png_strip.hpp"
#include "webp_strip.hpp"

namespace veil::exif_strip {
namespace {
bool is_bmff_picture(ImageType t) { return t == ImageType::heif || t == ImageType::avif; }
bool is_bmff_movie(ImageType t) { return t == ImageType::mp4 || t == ImageType::mov || t == ImageType::m4a; }
}  // namespace

void strip_image(ImageType type, ByteView in, const StripOptions& options, StripResult& out) {
    switch (type) {
        case ImageType::jpeg: return strip_jpeg(in, options, out);
        case ImageType::png: return strip_png(in, options, out);
        case ImageType::webp: return strip_webp(in, options, out);
        case ImageType::heif:
        case ImageType::avif:
        case ImageType::mp4:
        case ImageType::mov:
        case ImageType::m4a: return strip_bmff(in, options, out);
        default: throw FormatError("not a JPEG, PNG, WebP or ISO BMFF file");
    }
}

bool MetadataStripper::enabled(ImageType t) const {
    return (t == ImageType::jpeg && config_.jpeg) || (t == ImageType::png && config_.png) ||
           (t == ImageType::webp && config_.webp) || (is_bmff_picture(t) && config_.heif) || (is_bmff_movie(t) && config_.mp4);
}

ProcessReport MetadataStripper::process(Attachment& a) const {
    ProcessReport report{std::string(name()), Outcome::passed_through, {}, {}};
    const ImageType actual = sniff_image_type(a.bytes);
    const ImageType declared = image_type_of_mime(a.mime_type);
    const bool supported = actual == ImageType::jpeg || actual == ImageType::png || actual == ImageType::webp ||
                           is_bmff_picture(actual) || is_bmff_movie(actual);
    if (!supported) {
        if (actual == ImageType::other_image && config_.refuse_other_images) {
            throw ProcessError(name(), "GIF/TIFF/HEIF/AVIF/BMP image: its metadata cannot be removed; refused by config "
                                       "(exif-strip.other_images = \"refuse\")");
        }
        if (declared != ImageType::unknown) {
            throw ProcessError(name(), "declared " + a.mime_type + " but the content is not a " +
                                           std::string(name_of(declared)) + " file; refused");
        }
        report.detail = "passed through untouched: " + std::string(name_of(actual)) +
                        " type, metadata NOT removed (declared '" + a.mime_type + "')";
        return report;
    }
    if (!enabled(actual)) {
        report.detail = "passed through untouched: " + std::string(name_of(actual)) + " disabled in config";
        return report;
    }
    StripResult result;
    try {
        strip_image(actual, a.bytes, StripOptions{config_.orientation}, result);
    } catch (const FormatError& e) {
        throw ProcessError(name(), std::string(e.what()) + "; refused rather than sent with its metadata");
    }
    report.outcome = Outcome::processed;
    report.detail = std::string(name_of(actual)) + ": " + std::to_string(result.removed.size()) + " blocks removed";
    if (result.orientation_kept) report.detail += ", orientation " + std::to_string(result.orientation) + " kept";
    if (declared != ImageType::unknown && declared != actual) report.detail += ", declared type '" + a.mime_type + "' corrected";
    report.removed = std::move(result.removed);
    a.bytes = std::move(result.bytes);
    a.mime_type = std::string(mime_type_of(actual));
    return report;
}

}  // namespace veil::exif_strip
