// libFuzzer target: the "strip-metadata" processor as the exif-strip plugin runs it
// (MetadataStripper::process: type judged by content, then dispatched to a stripper), on
// arbitrary bytes with an arbitrary claimed type and keep_metadata. The claimed type and the
// flag come from the input's size, so raw corpus files are seeds as they are. Properties:
// - refused with a ProcessError, or
// - processed: the output is of the same type, is what the format's stripper gives, and
//   strips again to the same bytes (strip_twice), or
// - passed untouched: only when the sender kept the metadata or the content is a document
//   (never media or unrecognised content: no silent leak).

#include <cstdint>
#include <cstdlib>
#include <string>

#include "image_type.hpp"
#include "metadata_stripper.hpp"
#include "strip_twice.hpp"

using namespace veil::exif_strip;

namespace {
constexpr const char* claimed_types[] = {"",           "application/octet-stream", "image/jpeg", "image/png",
                                         "image/webp", "image/tiff",               "image/gif",  "image/heic",
                                         "video/mp4",  "video/quicktime",          "audio/mp4",  "application/pdf",
                                         "text/plain"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    const std::string claimed = claimed_types[size % std::size(claimed_types)];
    const bool keep = size % 17 == 0;
    const OrientationMode orientation = size % 3 == 0 ? OrientationMode::drop : OrientationMode::keep;
    const MetadataStripper stripper(StripperConfig{true, true, true, true, true, true, true, orientation});
    Attachment a{Bytes(in.begin(), in.end()), claimed, keep};
    ProcessReport report;
    try {
        report = stripper.process(a);
    } catch (const ProcessError&) {
        return 0;
    }
    const ImageType type = sniff_image_type(in);
    if (report.outcome == Outcome::passed_through) {
        if (a.bytes.size() != size || !std::equal(a.bytes.begin(), a.bytes.end(), data)) std::abort();
        if (!keep && type != ImageType::document) std::abort();  // media or unknown left untouched
        return 0;
    }
    if (keep || sniff_image_type(a.bytes) != type) std::abort();
    // The processor's output is what the format's stripper gives, and that strips to itself.
    const auto strip = [type](ByteView b, const StripOptions& o, StripResult& r) { strip_image(type, b, o, r); };
    const auto twice = strip_twice(strip, in, StripOptions{orientation});
    if (!twice || *twice != a.bytes) std::abort();
    return 0;
}
