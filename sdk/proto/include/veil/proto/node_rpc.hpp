#pragma once
/// Storage RPC: binary request and response encoding (the body of one service request).
/// On a node's port every frame names its service (sdk::transport::encode_service_request):
/// kStorageService for clients, kPeerService (Method::peer only) between swarm members.
/// Layout and every field are in docs/service-node.md §RPC. Decoders throw wire::DecodeError.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "veil/proto/manifest.hpp"
#include "veil/proto/namespaces.hpp"
#include "veil/proto/types.hpp"
#include "veil/wire/codec.hpp"

namespace veil::proto::node {

using proto::Hash;
using proto::PublicKey;
using proto::Signature;
using proto::SwarmId;
using wire::Bytes;
using wire::ByteView;

inline constexpr std::uint8_t kProtocolVersion = 1;
/// The service name of client storage RPCs (rate limited per connection).
inline constexpr std::string_view kStorageService = "storage";
/// The service name of requests between swarm members (replication, catch-up): PeerRequest
/// only, authenticated by the sender's node signature instead of rate limited.
inline constexpr std::string_view kPeerService = "peer";
/// Hard caps of the decoder (configured limits are checked later and are lower).
inline constexpr std::size_t kMaxDataBytes = 1 << 20;
inline constexpr std::size_t kMaxHashesPerRequest = 1000;
inline constexpr std::size_t kMaxPeerBodyBytes = 16 << 20;
inline constexpr std::size_t kMaxErrorBytes = 512;
inline constexpr std::size_t kMaxMessagesPerResponse = 10000;

/// RPC methods; values are on the wire.
enum class Method : std::uint8_t {
    store = 1,
    retrieve = 2,
    remove = 3,  ///< "delete"
    expire = 4,
    get_swarm = 5,
    info = 6,
    subscribe = 7,
    get_manifest = 8,
    peer = 9,  ///< node-to-node envelope (peer_rpc.hpp)
    challenge = 10,  ///< a directory authority's admission check (admission.hpp)
};

/// Response status codes; values are on the wire.
enum class Status : std::uint8_t {
    ok = 1,
    bad_request = 2,          ///< malformed bytes or an invalid field
    unknown_method = 3,
    bad_signature = 4,
    clock_out_of_window = 5,  ///< timestamp too far from the node's clock
    replayed = 6,             ///< this signed request was already seen
    too_large = 7,            ///< data over the size limit
    bad_ttl = 8,              ///< TTL or expiry outside 10 s .. 14 days
    quota_exceeded = 9,       ///< the mailbox holds too much
    rate_limited = 10,        ///< too many requests on this connection
    wrong_swarm = 11,         ///< not this node's swarm; the body names the right one
    not_ready = 12,           ///< the node has no manifest yet
    internal = 13,
    unauthorized = 14,        ///< a peer request from a node outside this swarm, or an unsigned
                              ///< store into a namespace only the owner may write
    pow_required = 15,        ///< a stranger's store lacks the work this mailbox now asks
                              ///< (store_work.hpp); the body says how much
};

[[nodiscard]] const char* to_string(Status s);
[[nodiscard]] const char* to_string(Method m);

/// Cursor-based page request fields shared by retrieve and subscribe.
struct PageQuery {
    std::optional<Hash> after;  ///< last hash the client has; none: from the start
    std::uint32_t max_count = 100;
    std::uint32_t max_bytes = 1 << 20;
};

/// Owner signature fields shared by store, retrieve, subscribe, delete and expire. The owner key is
/// the mailbox itself or an Ed25519 key whose X25519 conversion is the mailbox (so an
/// identity's mailbox can be its Veil ID key while its Ed25519 key signs).
struct OwnerAuth {
    std::uint64_t timestamp_ms = 0;
    PublicKey owner{};  ///< Ed25519 key that made the signature
    Signature signature{};
};

/// A stranger's proof of work for a store (store_work.hpp): stamped with the sender's clock, so
/// it buys one stretch of time (timestamp to timestamp + TTL) and not a message forever.
struct StoreWork {
    std::uint64_t timestamp_ms = 0;
    std::uint64_t nonce = 0;
    bool operator==(const StoreWork&) const = default;
};

/// A store. `auth` (the owner's signature) is required outside the envelope namespace
/// (store_needs_owner); `work` proves work (store_work.hpp) when a node asks a stranger's
/// store for it. On the wire both are optional trailers (auth first), so a store without them
/// encodes byte-for-byte as before. An owner-signed store of a message already held extends its
/// expiry.
struct StoreRequest {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    std::uint64_t ttl_ms = 0;
    Bytes data;
    std::optional<OwnerAuth> auth = std::nullopt;
    std::optional<StoreWork> work = std::nullopt;
};
struct RetrieveRequest {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    PageQuery page;
    OwnerAuth auth;
};
struct DeleteRequest {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    std::vector<Hash> hashes;
    OwnerAuth auth;
};
struct ExpireRequest {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    std::vector<Hash> hashes;
    std::uint64_t expiry_ms = 0;  ///< new absolute expiry; only ever shortens
    OwnerAuth auth;
};
struct GetSwarmRequest {
    PublicKey mailbox{};
};
struct InfoRequest {};
struct SubscribeRequest {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    PageQuery page;
    std::uint32_t wait_ms = 0;  ///< answer at the latest after this long (capped by the node)
    OwnerAuth auth;
};
/// held_version: the version the asker holds (an optional trailer; absent: send the whole
/// manifest). The answer is then "current", a diff from it (manifest_diff.hpp) or the whole one.
struct GetManifestRequest {
    std::optional<std::uint64_t> held_version = std::nullopt;
};
/// An authority proving that this node holds its key at the address it registered: the node
/// signs proto::challenge_message(authority, nonce, its host, its port) (admission.hpp).
struct ChallengeRequest {
    PublicKey authority{};
    Hash nonce{};
};
/// A node-signed envelope; body decoded by peer_rpc.hpp.
struct PeerRequest {
    Bytes envelope;
};

using RequestBody = std::variant<StoreRequest, RetrieveRequest, DeleteRequest, ExpireRequest, GetSwarmRequest,
                                 InfoRequest, SubscribeRequest, GetManifestRequest, PeerRequest, ChallengeRequest>;

/// One request in a frame.
struct Request {
    std::uint32_t id = 0;  ///< echoed in the response (requests may be answered out of order)
    RequestBody body;
};

/// One stored message as returned to clients.
struct MessageItem {
    Hash hash{};
    std::uint64_t expiry_ms = 0;
    Bytes data;
    bool operator==(const MessageItem&) const = default;
};

struct StoreResponse {
    Hash hash{};
    bool newly_stored = false;  ///< false: the same message was already there (kept once)
    std::uint64_t expiry_ms = 0;
};
struct PageResponse {  ///< retrieve and subscribe
    std::vector<MessageItem> messages;
    bool more = false;  ///< more messages after the last one returned
};
struct HashesResponse {  ///< delete and expire: the hashes that changed
    std::vector<Hash> hashes;
};
struct SwarmResponse {  ///< get_swarm, and the body of wrong_swarm
    SwarmId swarm = proto::kInvalidSwarm;
    std::vector<proto::NodeEntry> members;
};
struct InfoResponse {
    std::string version;
    PublicKey node_key{};
    SwarmId swarm = proto::kInvalidSwarm;
    std::uint64_t manifest_version = 0;
    std::uint64_t now_ms = 0;
    /// Peer-envelope signatures this node has verified since it started (a cost counter for
    /// operators and tests). Optional on the wire: absent from older nodes, then 0.
    std::uint64_t peer_signature_checks = 0;
    /// Subscribes waiting (long-polling) on this node now: a load figure, and what a test waits
    /// for before it stores to wake one. Optional on the wire like the field before it.
    std::uint64_t parked_subscribes = 0;
};
/// What a get_manifest answer carries; values are on the wire (the trailer after the envelope).
enum class ManifestAnswer : std::uint8_t {
    full = 1,     ///< `envelope` is the whole signed manifest (no trailer on the wire)
    current = 2,  ///< the asker's held_version is the node's: nothing to send
    diff = 3,     ///< `diff` turns the held manifest into the node's (manifest_diff.hpp)
};
struct ManifestResponse {
    Bytes envelope;  ///< full: proto::decode_signed_manifest; empty otherwise
    ManifestAnswer kind = ManifestAnswer::full;
    Bytes diff;      ///< diff: proto::decode_manifest_diff
};
struct ChallengeResponse {
    Signature signature{};  ///< by the node key over proto::challenge_message
};
struct PeerResponse {
    Bytes body;  ///< decoded by peer_rpc.hpp
};
struct ErrorResponse {
    std::string message;
};
/// The body of pow_required: the work (expected hashes, store_work.hpp) the node asks.
struct WorkRequiredResponse {
    std::uint64_t work = 0;
    std::string message;
};

using ResponseBody = std::variant<StoreResponse, PageResponse, HashesResponse, SwarmResponse, InfoResponse,
                                  ManifestResponse, PeerResponse, ErrorResponse, WorkRequiredResponse,
                                  ChallengeResponse>;

/// One response in a frame. The body kind follows from the method and the status: ok gives the
/// method's body, wrong_swarm a SwarmResponse, pow_required a WorkRequiredResponse, any other
/// status an ErrorResponse.
struct Response {
    std::uint32_t id = 0;
    Status status = Status::ok;
    ResponseBody body;
};

[[nodiscard]] Method method_of(const RequestBody& body);

[[nodiscard]] Bytes encode_request(const Request& r);
/// Throws wire::DecodeError on malformed input; an unknown method throws too (bad_request).
[[nodiscard]] Request decode_request(ByteView bytes);

[[nodiscard]] Bytes encode_response(Method method, const Response& r);
/// The caller says which method it asked (responses do not repeat it). Throws wire::DecodeError.
[[nodiscard]] Response decode_response(Method method, ByteView bytes);

/// A response that carries only an error.
[[nodiscard]] Response error_response(std::uint32_t id, Status status, std::string message);

}  // namespace veil::proto::node

namespace veil::proto::node {
/// The request id of a frame whose body may be malformed (to address the bad_request answer);
/// 0 if even the header is short.
[[nodiscard]] std::uint32_t peek_request_id(ByteView bytes);
}  // namespace veil::proto::node
