#pragma once
/// Node-to-node (peer) protocol, carried by Method::peer on the kPeerService port: replication of every change and catch-up by reconciliation.
///
/// Every change (store, delete, expire) is a MessageState merge. A store can only add a message
/// the replica lacks, its data proving its hash; into a namespace only the owner writes
/// (store_needs_owner) it must also carry its store auth (owner_auth.hpp), which the replica
/// verifies as it would the client's store and keeps with the row. A deletion or a lower expiry
/// travels with its proof, the owner's own signed delete or expire request (owner_auth.hpp), and
/// a replica applies it only when that proof verifies and covers the message; it keeps the proof
/// with the row so that catch-up can forward it. So one hostile member cannot erase anything.
/// Catch-up: the requester asks a swarm peer for a summary (256 buckets by the first hash byte,
/// each a count and a digest of its sorted states), asks for the states (with proofs) of each
/// bucket that differs, page by page in hash order (each request names the last hash it has,
/// each reply says whether more follow), merges the proven deletions and lower expiries, and
/// fetches the data of messages it lacks.
///
/// Envelope (version 3): u8 3 || sender (32) || recipient (32) || u64 timestamp_ms || nonce (16)
/// || var(inner) || signature (64), signed over "veil-peer-v3" (12 bytes) || sender || recipient
/// || u64 timestamp_ms || nonce || inner. The recipient checks, in this order: the budget of the
/// connection the frame came by; before decoding the inner body or verifying anything, that the
/// sender is a member of its swarm and the recipient is itself; then the signature, the clock
/// window and that the signature was not seen before (a replayed envelope is refused); only then
/// the sender's own budget (the header's sender is unsigned: anyone can name a member).
///
/// Op lists (replicate, and a bucket page's states): u32 n_proofs || n × var(proof) || u32 n_ops ||
/// n × (state || u8 flags (1: data, 2: proof, 4: store auth) || [u32 proof index] || [var data]
/// || [var store_auth]). Fetched messages: u32 n || n × (mailbox || u16 ns || hash || u64 expiry_ms
/// || var(data) || var(store_auth, empty: none)). Version 3 added the store auth (version 2
/// envelopes are refused: a v2 member would replicate owner-only stores without it).
/// Bucket request (kind 3): u64 swarm || u8 bucket || u8 has_after (0, 1) || [after (32)].
/// Bucket page: u8 more (0, 1) || op list (no data), states in strictly increasing hash order.

#include <array>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "veil/crypto/keys.hpp"
#include "veil/proto/node_rpc.hpp"

namespace veil::proto::node {

/// A stored message.
struct StoredMessage {
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    Hash hash{};
    std::uint64_t expiry_ms = 0;
    Bytes data;
    Bytes store_auth = {};  ///< the bytes that proved the store was allowed (owner_auth.hpp); empty: none
};

/// A row's state as replicas compare it: the merge keeps the lower expiry and a deletion wins.
struct MessageState {
    Hash hash{};
    PublicKey mailbox{};
    std::uint16_t ns = 0;
    std::uint64_t expiry_ms = 0;
    bool deleted = false;
    bool operator==(const MessageState&) const = default;
};

inline constexpr std::size_t kBuckets = 256;
inline constexpr std::size_t kMaxOpsPerReplicate = 10000;
/// Most states in one bucket page; a page's decoder refuses more (a node may send fewer).
inline constexpr std::size_t kMaxStatesPerPage = 10000;
/// Most bytes a node puts in one bucket page, proofs included (a node may send fewer).
inline constexpr std::size_t kMaxPageBytes = 4 << 20;
inline constexpr std::size_t kMaxMessagesPerReply = 200000;
inline constexpr std::size_t kMaxFetchBytes = 8 << 20;

inline constexpr std::uint8_t kPeerVersion = 3;
inline constexpr std::size_t kNonceBytes = 16;
inline constexpr std::size_t kMaxProofBytes = 64 << 10;
inline constexpr std::size_t kPeerHeaderBytes = 1 + 32 + 32;

/// One change: a state, with the data (and its store auth, if any) when the receiver may lack the
/// message, and the owner's proof (encode_owner_proof) when it deletes or lowers an expiry. Ops
/// share a proof.
struct ReplicaOp {
    MessageState state;
    std::optional<Bytes> data;
    std::shared_ptr<const Bytes> proof = nullptr;  // a plain store carries none
    Bytes store_auth = {};  // empty: none (a stranger's store into the envelope namespace)
};

struct ReplicateBody {
    std::vector<ReplicaOp> ops;
};
struct SummaryBody {
    SwarmId swarm = proto::kInvalidSwarm;
};
/// One page of a bucket's states: those with a hash above `after` (from the start without).
struct BucketBody {
    SwarmId swarm = proto::kInvalidSwarm;
    std::uint8_t bucket = 0;
    std::optional<Hash> after;
};
struct FetchBody {
    std::vector<Hash> hashes;
};
using PeerBody = std::variant<ReplicateBody, SummaryBody, BucketBody, FetchBody>;

/// A verified-or-not envelope after decoding.
struct PeerEnvelope {
    PublicKey sender{};
    PublicKey recipient{};
    std::uint64_t timestamp_ms = 0;
    std::array<std::uint8_t, kNonceBytes> nonce{};
    PeerBody body;
    Bytes inner;  ///< exact signed inner bytes
    Signature signature{};
};

/// Encodes and signs a peer request with the node's key, for one recipient, with a fresh nonce.
[[nodiscard]] Bytes seal_peer(const PeerBody& body, const crypto::SigningKeyPair& node_key, const PublicKey& recipient,
                              std::uint64_t now_ms);
/// Sender and recipient of an envelope, read without decoding the rest (nullopt: too short or
/// another version). For the checks that must come before any decoding.
struct PeerHeader {
    PublicKey sender{};
    PublicKey recipient{};
};
[[nodiscard]] std::optional<PeerHeader> peek_peer(ByteView envelope);
/// Decodes an envelope (throws wire::DecodeError); verify_peer checks the signature.
[[nodiscard]] PeerEnvelope open_peer(ByteView envelope);
[[nodiscard]] bool verify_peer(const PeerEnvelope& e);

/// Per bucket: how many states and a digest of them.
struct BucketDigest {
    std::uint32_t count = 0;
    std::array<std::uint8_t, 16> digest{};
    bool operator==(const BucketDigest&) const = default;
};
using Summary = std::array<BucketDigest, kBuckets>;

[[nodiscard]] Summary summarize(std::vector<MessageState> states);
/// summarize() one state at a time, for a store too large to hold its states at once: add()
/// them in increasing hash order (at least within each bucket), then finish() once.
class SummaryBuilder final {
public:
    SummaryBuilder();
    ~SummaryBuilder();
    SummaryBuilder(const SummaryBuilder&) = delete;
    SummaryBuilder& operator=(const SummaryBuilder&) = delete;
    void add(const MessageState& s);
    [[nodiscard]] Summary finish();

private:
    struct Hashers;
    std::unique_ptr<Hashers> hashers_;
    Summary out_{};
};
/// Buckets whose digests differ.
[[nodiscard]] std::vector<std::uint8_t> differing_buckets(const Summary& local, const Summary& remote);
/// States of one bucket.
[[nodiscard]] std::vector<MessageState> bucket_states(const std::vector<MessageState>& states, std::uint8_t bucket);


/// Reply encodings.
[[nodiscard]] Bytes encode_summary(const Summary& s);
[[nodiscard]] Summary decode_summary(ByteView b);
/// A page of a bucket's states with their proofs (ops without data), in increasing hash order.
struct BucketPage {
    std::vector<ReplicaOp> states;
    bool more = false;  ///< states with higher hashes follow (ask again after the last)
};
[[nodiscard]] Bytes encode_bucket_page(const BucketPage& page);
/// Throws wire::DecodeError on malformed bytes, more than kMaxStatesPerPage states, data, or
/// states out of order.
[[nodiscard]] BucketPage decode_bucket_page(ByteView b);
[[nodiscard]] Bytes encode_messages(const std::vector<StoredMessage>& m);
[[nodiscard]] std::vector<StoredMessage> decode_messages(ByteView b);

}  // namespace veil::proto::node
