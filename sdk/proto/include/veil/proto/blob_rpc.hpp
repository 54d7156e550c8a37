#pragma once
/// The attachment store's wire protocol: the body of a transport request to service
/// "attachments" (onion or direct), and of a node's replica pushes to its swarm peers.
/// A blob is the ciphertext of one attachment, addressed by id = blob_id(digest), uploaded and
/// downloaded in chunks of kChunkBytes (the last one shorter). Layout in docs/attachments.md.
/// Decoders take untrusted bytes and throw wire::DecodeError.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "veil/wire/codec.hpp"

namespace veil::proto::blob {

using wire::Bytes;
using wire::ByteView;
using BlobId = std::array<std::uint8_t, 32>;
using Digest = std::array<std::uint8_t, 32>;
using NodeKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

/// The transport service name the store serves.
inline constexpr std::string_view kServiceName = "attachments";
inline constexpr std::uint8_t kProtocolVersion = 1;
/// Bytes of blob per chunk: one chunk, its header and three onion layers fit a 256 KiB bucket.
inline constexpr std::size_t kChunkBytes = 252 * 1024;
/// Hard cap of the decoder on a blob's declared size (configured limits are lower).
inline constexpr std::uint64_t kMaxBlobBytes = 64ull << 20;
inline constexpr std::size_t kMaxErrorBytes = 512;
/// Most blobs one list page names.
inline constexpr std::uint32_t kMaxListCount = 1000;

/// Domain tag that starts the bytes of a signed list request (list_signed_bytes).
inline constexpr std::string_view kListDomain = "veil-attachment-list-v1";

/// The store id of a blob: BLAKE2b-256("veil-attachment-id-v1" || digest). The store checks it
/// against the declared digest, so an id names exactly one content.
[[nodiscard]] BlobId blob_id(const Digest& digest);
/// BLAKE2b-256 of the blob bytes.
[[nodiscard]] Digest blob_digest(ByteView blob);
/// Chunks a blob of `total_bytes` has (at least one).
[[nodiscard]] std::uint32_t chunk_count(std::uint64_t total_bytes);
/// Size of chunk `index` of a blob of `total_bytes`.
[[nodiscard]] std::size_t chunk_size(std::uint64_t total_bytes, std::uint32_t index);

/// Size bucket of an attachment of `file_bytes` (plaintext): the smallest of 541, then each
/// bucket 5% above the last (rounded down), that holds it. The plaintext is padded to it, so a
/// store sees only the bucket (Signal's attachment padding).
[[nodiscard]] std::uint64_t padded_bytes(std::uint64_t file_bytes);
/// Bytes of the sealed blob of a padded plaintext of `padded` bytes: the secretstream header
/// and 17 bytes per 64 KiB chunk.
[[nodiscard]] std::uint64_t sealed_bytes_of_padded(std::uint64_t padded);
/// Largest blob a store must accept to hold files of up to `max_file_bytes`.
[[nodiscard]] std::uint64_t max_stored_bytes(std::uint64_t max_file_bytes);

enum class Method : std::uint8_t { put = 1, get = 2, list = 3 };

/// Status codes; values are on the wire. Zero is never valid.
enum class Status : std::uint8_t {
    ok = 1,
    bad_request = 2,      ///< malformed, or a chunk of the wrong size or index
    too_large = 3,        ///< the blob is over the store's limit
    digest_mismatch = 4,  ///< the complete blob does not hash to its digest: discarded
    not_found = 5,        ///< no complete, unexpired blob with that id
    wrong_swarm = 6,      ///< the id belongs to another swarm
    not_ready = 7,        ///< the node has no manifest yet, or is busy: try another member
    internal = 8,
};
[[nodiscard]] const char* to_string(Status s);

/// Upload one chunk. Idempotent: a chunk already held is not written again.
struct PutRequest {
    BlobId id{};
    Digest digest{};
    std::uint64_t total_bytes = 0;
    std::uint64_t expiry_ms = 0;  ///< replicas: the origin's absolute expiry; clients: 0
    bool replica = false;         ///< from a swarm peer: not replicated further
    std::uint32_t index = 0;
    Bytes bytes;
};

/// Download one chunk of a complete blob.
struct GetRequest {
    BlobId id{};
    std::uint32_t index = 0;
};

/// The complete blobs a node holds, in id order after a cursor: for catch-up between members
/// of one swarm only, so it is signed by the asking node's key (a member of the same swarm).
struct ListRequest {
    std::optional<BlobId> after;
    std::uint32_t max_count = kMaxListCount;
    NodeKey requester{};
    std::uint64_t timestamp_ms = 0;
    Signature signature{};
};
/// The bytes a ListRequest's signature covers.
Bytes list_signed_bytes(const ListRequest& q);

using Request = std::variant<PutRequest, GetRequest, ListRequest>;

struct PutResponse {
    bool complete = false;        ///< the whole blob is held, verified and readable
    std::uint32_t have_chunks = 0;
    std::uint32_t total_chunks = 0;
};

struct GetResponse {
    std::uint64_t total_bytes = 0;
    std::uint64_t expiry_ms = 0;
    std::uint32_t index = 0;
    Bytes bytes;
};

struct BlobEntry {
    BlobId id{};
    Digest digest{};
    std::uint64_t total_bytes = 0;
    std::uint64_t expiry_ms = 0;
    bool operator==(const BlobEntry&) const = default;
};

struct ListResponse {
    std::vector<BlobEntry> blobs;
    bool more = false;
};

/// A response: status ok carries the method's body, any other status a message.
struct Response {
    Status status = Status::ok;
    std::variant<std::monostate, PutResponse, GetResponse, ListResponse> body;
    std::string message;
};

Bytes encode_request(const Request& r);
Request decode_request(ByteView bytes);
Bytes encode_response(const Response& r);
/// `method` says which body an ok response carries.
Response decode_response(Method method, ByteView bytes);
/// An error response.
Response error(Status s, std::string message);

}  // namespace veil::proto::blob
