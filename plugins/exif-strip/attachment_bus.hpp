#pragma once
/// Bus contract of the exif-strip plugin: "process this outgoing attachment".
/// Plain structs (DESIGN.md §1 typed bus). They live beside the plugin until the SDK owner
/// moves them into sdk/ (adding an SDK header changes the SDK ABI hash).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace veil::exif_strip {

/// What one processor of the chain did to the file.
struct AttachmentStepReport {
    std::string processor;             ///< e.g. "strip-metadata"
    bool modified = false;             ///< false: passed through untouched (see detail)
    std::string detail;                ///< one line for people
    std::vector<std::string> removed;  ///< each removed block, e.g. "APP1 Exif (1234 bytes)"
};

/// Reply: the file as it may be sent, and what the chain did.
struct ProcessedAttachment {
    std::vector<std::uint8_t> bytes;
    std::string mime_type;  ///< corrected from the content when the declared type was wrong
    std::vector<AttachmentStepReport> reports;
};

/// Request (imperative): run the outgoing-attachment chain on a file before it is encrypted.
/// Refusal (unparseable image, or content that contradicts the declared image type) comes back
/// as ErrorCode::bad_input with a message naming the processor; the file must then not be sent.
struct ProcessAttachment {
    static constexpr std::string_view topic = "veil.attachment.process";
    using Reply = ProcessedAttachment;
    std::vector<std::uint8_t> bytes;
    std::string mime_type;  ///< as declared by the sender ("" if unknown)
};

}  // namespace veil::exif_strip
