#pragma once
/// The node's attachment blobs on disk: DIR/parts/<id> while chunks arrive (in memory: which
/// chunks are held), DIR/blobs/<id>-<expiry_ms> once every chunk is in and the whole blob hashed
/// to its digest (renamed into place, so a blob is either absent or complete and verified).
/// The file name carries the expiry and digest, so the index is rebuilt from a directory listing on start;
/// partial uploads do not survive a restart (the uploader retries on another member).
/// Thread-safe (one mutex); calls touch the disk, so run them on the worker pool.

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "veil/proto/blob_rpc.hpp"

namespace veil::attachment_store {

// The store serves the SDK's blob RPC; its names are used unqualified here.
using namespace veil::proto::blob;

/// Limits of one store (config keys of [attachment-store]).
struct StoreLimits {
    std::uint64_t max_blob_bytes = 0;         ///< largest blob (ciphertext) accepted
    std::uint64_t max_total_bytes = 10ull << 30;  ///< disk held by blobs and partial uploads
    std::uint64_t expiry_ms = 14ull * 24 * 3600 * 1000;  ///< how long a blob is kept
    std::size_t max_pending = 64;             ///< partial uploads at once
    std::size_t max_pending_per_source = 16;  ///< of which one source (address or /64) may start
    std::uint64_t pending_idle_ms = 600'000;  ///< a partial upload untouched this long is dropped
};

/// What a put did.
struct PutOutcome {
    Response response;
    bool completed_now = false;  ///< this put completed the blob (replicate it)
    std::uint64_t expiry_ms = 0;
};

class BlobStore final {
public:
    /// Creates the folders (0700), removes leftover partial uploads, indexes the blobs.
    /// Throws std::filesystem::filesystem_error.
    BlobStore(std::filesystem::path dir, StoreLimits limits);

    /// Writes one chunk (unless held), and when the blob is complete verifies and publishes it.
    /// `source` is where it came from (upload_source: the link's address or /64, as
    /// transport::Inbound::source): a new upload counts against that source's share of the
    /// pending uploads, however many connections the source opens.
    PutOutcome put(const PutRequest& q, std::uint64_t now_ms, const std::string& source = {});
    /// Reads one chunk of a complete, unexpired blob.
    Response get(const GetRequest& q, std::uint64_t now_ms);
    /// Deletes expired blobs and idle partial uploads; returns how many went.
    std::size_t sweep(std::uint64_t now_ms);
    /// True when a complete, unexpired blob is held.
    bool has(const BlobId& id, std::uint64_t now_ms);
    /// Complete, unexpired blobs in id order after `after`, at most `max_count`.
    ListResponse list(const std::optional<BlobId>& after, std::uint32_t max_count, std::uint64_t now_ms);
    /// The entries (unexpired) that are not held here.
    std::vector<BlobEntry> missing(const std::vector<BlobEntry>& entries, std::uint64_t now_ms);
    /// Complete blobs held (tests, logs).
    std::size_t count();

private:
    struct Blob {
        std::uint64_t total_bytes = 0;
        std::uint64_t expiry_ms = 0;
        Digest digest{};
    };
    struct Pending {
        Digest digest{};
        std::uint64_t total_bytes = 0;
        std::uint64_t expiry_ms = 0;
        std::vector<bool> have;
        std::uint32_t have_count = 0;
        std::uint64_t touched_ms = 0;
        std::string source;  ///< where the upload that started it came from
    };
    std::filesystem::path blob_path(const BlobId& id, const Blob& b) const;
    std::filesystem::path part_path(const BlobId& id) const;
    Response finish(const BlobId& id, Pending& p, std::uint64_t now_ms, bool& completed);
    void drop_pending(const BlobId& id);
    std::uint64_t used_bytes() const;

    std::mutex mutex_;
    std::filesystem::path dir_;
    StoreLimits limits_;
    std::map<BlobId, Blob> blobs_;
    std::map<BlobId, Pending> pending_;
};

}  // namespace veil::attachment_store
