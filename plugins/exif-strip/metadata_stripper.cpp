#include "metadata_stripper.hpp"

#include "bmff_strip.hpp"
#include "gif_strip.hpp"
#include "jpeg_strip.hpp"
#include "png_strip.hpp"
#include "tiff_strip.hpp"
#include "webp_strip.hpp"

namespace veil::exif_strip {
void strip_image(ImageType type, ByteView in, const StripOptions& options, StripResult& out) {
    switch (type) {
        case ImageType::jpeg: return strip_jpeg(in, options, out);
        case ImageType::png: return strip_png(in, options, out);
        case ImageType::webp: return strip_webp(in, options, out);
        case ImageType::tiff: return strip_tiff(in, options, out);
        case ImageType::gif: return strip_gif(in, options, out);
        case ImageType::heif:
        case ImageType::avif:
        case ImageType::mp4:
        case ImageType::mov:
        case ImageType::m4a: return strip_bmff(in, options, out);
        default: throw FormatError("not a JPEG, PNG, WebP, TIFF, GIF or ISO BMFF file");
    }
}

bool MetadataStripper::enabled(ImageType t) const {
    switch (t) {
        case ImageType::jpeg: return config_.jpeg;
        case ImageType::png: return config_.png;
        case ImageType::webp: return config_.webp;
        case ImageType::tiff: return config_.tiff;
        case ImageType::gif: return config_.gif;
        case ImageType::heif:
        case ImageType::avif: return config_.heif;
        case ImageType::mp4:
        case ImageType::mov:
        case ImageType::m4a: return config_.mp4;
        default: return false;
    }
}

namespace {
const std::string kKeepHint =
    "; refused so it does not leave with its metadata (to send it unchanged, metadata included, ask "
    "explicitly: veil send --file PATH --keep-metadata)";
}  // namespace

ProcessReport MetadataStripper::process(Attachment& a) const {
    ProcessReport report{std::string(name()), Outcome::passed_through, {}, {}};
    const ImageType actual = sniff_image_type(a.bytes);
    const ImageType declared = image_type_of_mime(a.mime_type);
    const std::string kind(actual == ImageType::other_media || actual == ImageType::document ? content_kind(a.bytes)
                           : actual == ImageType::unknown                                      ? "unrecognised content"
                                                                                               : name_of(actual));
    if (a.keep_metadata) {
        report.detail = "passed through untouched: " + kind + ", metadata kept at the sender's request";
        return report;
    }
    if ((actual == ImageType::document || actual == ImageType::unknown) && declared != ImageType::unknown) {
        throw ProcessError(name(), "declared " + a.mime_type + " but the content is not a " + std::string(name_of(declared)) +
                                       " file; refused");
    }
    if (actual == ImageType::document) {
        report.detail = kind + ": sent as a file, its contents are not changed (metadata inside it is NOT removed)";
        return report;
    }
    // Not a document type known by its content: it may be media whose metadata we cannot see.
    if (actual == ImageType::unknown) {
        throw ProcessError(name(), "unrecognised content (neither media whose metadata can be removed nor a known document type)" +
                                       kKeepHint);
    }
    if (actual == ImageType::other_media) throw ProcessError(name(), kind + ": its metadata cannot be removed" + kKeepHint);
    if (!enabled(actual)) throw ProcessError(name(), kind + ": metadata removal is disabled in config (exif-strip.formats)" + kKeepHint);
    StripResult result;
    try {
        strip_image(actual, a.bytes, StripOptions{config_.orientation}, result);
    } catch (const FormatError& e) {
        throw ProcessError(name(), std::string(e.what()) + "; refused rather than sent with its metadata");
    }
    report.outcome = Outcome::processed;
    report.detail = kind + ": " + std::to_string(result.removed.size()) + " blocks removed";
    if (result.orientation_kept) report.detail += ", orientation " + std::to_string(result.orientation) + " kept";
    if (declared != ImageType::unknown && declared != actual) report.detail += ", declared type '" + a.mime_type + "' corrected";
    report.removed = std::move(result.removed);
    a.bytes = std::move(result.bytes);
    a.mime_type = std::string(mime_type_of(actual));
    return report;
}

}  // namespace veil::exif_strip
