#pragma once
/// Uploads and downloads of attachments (the client side of the SDK's attachment contract).
/// Upload: read the file (worker pool), refuse it over the limit before anything else, run the
/// configured processors (ProcessAttachment), seal it (pad + secretstream, worker pool), and
/// put its chunks through the enabled transport (transport::Request, onion by default) to a
/// member of the swarm that owns its id, moving to another member when one fails.
/// Download: get the chunks from a member of that swarm, verify the digest, every chunk and
/// the final tag, and only then write the file (0600, a new name) under the directory.
/// Both publish TransferProgress. Loop thread only.

#include <memory>
#include <string>
#include <vector>

#include "veil/sdk/attachment.hpp"
#include "veil/sdk/context.hpp"

namespace veil::attachments {

struct TransferSettings {
    std::uint64_t max_file_bytes = sdk::attachment::kDefaultMaxBytes;
    std::vector<std::string> processors{"exif-strip"};  ///< in order; empty: files go unprocessed
    std::uint32_t chunk_timeout_ms = 30'000;             ///< per chunk request
    std::size_t attempts = 6;                            ///< failed requests tolerated per transfer (members in turn)
};

/// A member of the swarm that owns a blob id, as a transport destination.
struct Member {
    std::string node_key_hex;
    std::string address;
};

/// "12.3 MB" (MB = 2^20 bytes, one decimal).
std::string megabytes(std::uint64_t bytes);
/// A safe base name for a received file: no directories, no control characters, not empty.
std::string safe_file_name(std::string_view name);
/// The name a file goes out under by default: "image.jpg", "video.mp4", "file.pdf", ... from
/// its (processed) type, "file" for another type; never anything of the sender's file name.
std::string neutral_file_name(std::string_view mime_type);
/// The content type from the first bytes, or from the name; "application/octet-stream" if unknown.
std::string guess_mime_type(const std::vector<std::uint8_t>& head, std::string_view name);

class Transfers final {
public:
    Transfers(sdk::Context& ctx, TransferSettings settings);
    ~Transfers();
    Transfers(const Transfers&) = delete;
    Transfers& operator=(const Transfers&) = delete;

    void upload(const sdk::attachment::UploadAttachment& q, sdk::Responder<sdk::attachment::AttachmentRef> reply);
    void download(const sdk::attachment::DownloadAttachment& q,
                  sdk::Responder<sdk::attachment::DownloadedAttachment> reply);
    /// Verifies and decrypts a blob a download kept sealed (OpenAttachment), on the worker pool.
    void open_kept(const sdk::attachment::OpenAttachment& q, sdk::Responder<sdk::attachment::OpenedAttachment> reply);

private:
    struct Upload;
    struct Download;
    void process(std::shared_ptr<Upload> up, std::size_t step);
    void seal_and_send(std::shared_ptr<Upload> up);
    void with_members(const std::array<std::uint8_t, 32>& id,
                      std::function<void(sdk::Result<std::vector<Member>>)> then);
    void put_next(std::shared_ptr<Upload> up);
    void get_next(std::shared_ptr<Download> down);
    void progress(const std::string& transfer_id, bool upload, std::uint64_t done, std::uint64_t total);

    sdk::Context& ctx_;
    TransferSettings settings_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace veil::attachments
