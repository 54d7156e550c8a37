#pragma once
/// The attachment contract on the bus: how a file leaves and arrives (DESIGN.md §7).
///
/// Sending: the messenger asks UploadAttachment with a file path; the attachments plugin runs the
/// processor chain (ProcessAttachment, e.g. exif-strip), encrypts the result with a fresh key
/// (secretstream, padded to a size bucket), uploads it through the enabled transport to the
/// attachment store of the service nodes, and replies with the AttachmentRef the message carries.
/// Receiving: DownloadAttachment with that ref; the file is kept only after the digest and the
/// stream's final tag verified. Both publish TransferProgress while they run. A client keeps
/// what it received encrypted (DownloadAttachment{keep_sealed}) and opens it with OpenAttachment
/// only where the person asks for the plaintext.
/// Every struct is plain; the key is secret: holders wipe it (sodium_memzero) when done.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace veil::sdk::attachment {

/// Largest file accepted for upload, by default (the store's limit; configurable per plugin).
inline constexpr std::uint64_t kDefaultMaxBytes = 10ull * 1024 * 1024;

/// What a message carries so the receiver can fetch, check and decrypt one file.
struct AttachmentRef {
    std::array<std::uint8_t, 32> id{};      ///< store id (a hash of the stored ciphertext)
    std::array<std::uint8_t, 32> key{};     ///< secret: the file's secretstream key
    std::array<std::uint8_t, 32> digest{};  ///< BLAKE2b-256 of the stored ciphertext
    std::uint64_t size_bytes = 0;           ///< plaintext size (after processing)
    std::string mime_type;                  ///< e.g. "image/jpeg"; "application/octet-stream" if unknown
    std::string file_name;                  ///< base name only, no directories
    /// Local only, never carried in a message: what the sender should be told about the
    /// processing, e.g. that a document went unchanged or that metadata was kept on request.
    std::string notice{};
};

/// Event: progress of one transfer, published at least at start and end.
struct TransferProgress {
    static constexpr std::string_view topic = "veil.attachment.progress";
    std::string transfer_id;  ///< chosen by the requester (e.g. the message id in hex)
    bool upload = true;       ///< false: a download
    std::uint64_t done_bytes = 0;
    std::uint64_t total_bytes = 0;
};

/// Request: process, encrypt and upload the file at `path`. Fails before anything is uploaded
/// with too_large (over the limit), bad_input (refused by a processor) or io (unreadable); with
/// unreachable or timeout when the network fails.
struct UploadAttachment {
    static constexpr std::string_view topic = "veil.attachment.upload";
    using Reply = AttachmentRef;
    std::string path;
    std::string mime_type;    ///< "" = guess from the content and the name
    std::string transfer_id;  ///< echoed in TransferProgress
    bool keep_metadata = false;  ///< the sender explicitly asked to send the file with its metadata
    /// The name the recipient sees. "" (the default) = a neutral name from the processed type
    /// ("image.jpg", "video.mp4", "file.pdf"), since a name such as PXL_20240512_143211123.jpg
    /// gives back the capture time; else the name the sender explicitly chose to send (its
    /// base name is used).
    std::string file_name{};
};

/// Reply of DownloadAttachment and OpenAttachment: where the file now is.
struct DownloadedAttachment {
    std::string path;
};

/// Request: download, verify and decrypt `ref` into a new file under `directory` (named after
/// ref.file_name, made unique). Fails with bad_input when the digest or the stream does not
/// verify (nothing is written), not_found when the store no longer has it.
struct DownloadAttachment {
    static constexpr std::string_view topic = "veil.attachment.download";
    using Reply = DownloadedAttachment;
    AttachmentRef ref;
    std::string directory;
    std::string transfer_id;
    /// True: once everything verified, write the blob as it was stored (still encrypted under
    /// ref.key) to `<id hex>.sealed` under `directory` instead of the plaintext.
    bool keep_sealed = false;
};

/// Reply of OpenAttachment without a destination: the plaintext, for the caller to wipe.
struct OpenedAttachment {
    std::string path;                ///< the file written ("" when the bytes are returned)
    std::vector<std::uint8_t> bytes;  ///< the plaintext when no destination was given
};

/// Request: verify and decrypt a blob kept by DownloadAttachment{keep_sealed} at `sealed_path`
/// (the same checks as a download). With `directory` the plaintext goes to a new file there
/// (0600, named after ref.file_name, made unique); with `path` to that new file (0600, never
/// over an existing one); with neither it comes back as bytes. bad_input: the blob does not
/// verify; io: it cannot be read or the file cannot be written (nothing is left half written).
struct OpenAttachment {
    static constexpr std::string_view topic = "veil.attachment.open";
    using Reply = OpenedAttachment;
    AttachmentRef ref;
    std::string sealed_path;
    std::string directory;
    std::string path;
};

/// What one processor of the outgoing chain did to the file.
struct AttachmentStepReport {
    std::string processor;             ///< e.g. "strip-metadata"
    bool modified = false;             ///< false: passed through untouched (see detail)
    std::string detail;                ///< one line for people
    std::vector<std::string> removed;  ///< each removed block, e.g. "APP1 Exif (1234 bytes)"
};

/// Reply of ProcessAttachment: the file as it may be sent, and what the chain did.
struct ProcessedAttachment {
    std::vector<std::uint8_t> bytes;
    std::string mime_type;  ///< corrected from the content when the declared type was wrong
    std::vector<AttachmentStepReport> reports;
};

/// Request (served by a processor plugin such as exif-strip, on its worker pool): run the
/// outgoing-attachment chain on a file before it is encrypted. A refusal (unparseable image,
/// content that contradicts the declared image type, an image/video/audio type whose metadata
/// cannot be removed) is ErrorCode::bad_input with a message naming the processor; the file
/// must then not be sent. With keep_metadata the sender asked explicitly to send the file as it
/// is: processors pass it untouched and say so in their report.
struct ProcessAttachment {
    static constexpr std::string_view topic = "veil.attachment.process";
    using Reply = ProcessedAttachment;
    std::vector<std::uint8_t> bytes;
    std::string mime_type;       ///< as declared by the sender ("" if unknown)
    bool keep_metadata = false;  ///< the sender explicitly asked to keep the file's metadata
};

}  // namespace veil::sdk::attachment
