#pragma once
/// Node-to-node protocol: replication of every change and catch-up by reconciliation.
///
/// Every change (store, delete, expire) is a MessageState merge: the lower expiry wins and a
/// deletion wins, so merges commute and repeat harmlessly (a replayed peer request changes
/// nothing; peer requests therefore need no replay cache, only a signature and the clock window).
/// Catch-up: the requester asks a swarm peer for a summary (256 buckets by the first hash byte,
/// each a count and a digest of its sorted states), asks for the states of each bucket that
/// differs, merges deletions and lower expiries, and fetches the data of messages it lacks.
///
/// Envelope signed bytes: "veil-peer-v1" (12 bytes) || sender (32) || u64 timestamp_ms || inner.

#include <array>
#include <variant>

#include "veil/crypto/keys.hpp"
#include "store.hpp"

namespace veil::node {

// The node serves the node RPC of the SDK's protocol; its names are used unqualified here.
using namespace veil::proto::node;

inline constexpr std::size_t kBuckets = 256;
inline constexpr std::size_t kMaxOpsPerReplicate = 10000;
inline constexpr std::size_t kMaxStatesPerReply = 200000;
inline constexpr std::size_t kMaxFetchBytes = 8 << 20;

/// One change: a state, with the data when the receiver may lack the message.
struct ReplicaOp {
    MessageState state;
    std::optional<Bytes> data;
};

struct ReplicateBody {
    std::vector<ReplicaOp> ops;
};
struct SummaryBody {
    SwarmId swarm = proto::kInvalidSwarm;
};
struct BucketBody {
    SwarmId swarm = proto::kInvalidSwarm;
    std::uint8_t bucket = 0;
};
struct FetchBody {
    std::vector<Hash> hashes;
};
using PeerBody = std::variant<ReplicateBody, SummaryBody, BucketBody, FetchBody>;

/// A verified-or-not envelope after decoding.
struct PeerEnvelope {
    PublicKey sender{};
    std::uint64_t timestamp_ms = 0;
    PeerBody body;
    Bytes inner;  ///< exact signed inner bytes
    Signature signature{};
};

/// Encodes and signs a peer request with the node's key.
[[nodiscard]] Bytes seal_peer(const PeerBody& body, const crypto::SigningKeyPair& node_key, std::uint64_t now_ms);
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
/// Buckets whose digests differ.
[[nodiscard]] std::vector<std::uint8_t> differing_buckets(const Summary& local, const Summary& remote);
/// States of one bucket.
[[nodiscard]] std::vector<MessageState> bucket_states(const std::vector<MessageState>& states, std::uint8_t bucket);

/// What a node does with a peer's bucket: merge these states, fetch these messages' data.
struct CatchUpPlan {
    std::vector<MessageState> merge;
    std::vector<Hash> fetch;
};
[[nodiscard]] CatchUpPlan plan_catch_up(const std::vector<MessageState>& local, const std::vector<MessageState>& remote);

/// Reply encodings.
[[nodiscard]] Bytes encode_summary(const Summary& s);
[[nodiscard]] Summary decode_summary(ByteView b);
[[nodiscard]] Bytes encode_states(const std::vector<MessageState>& s);
[[nodiscard]] std::vector<MessageState> decode_states(ByteView b);
[[nodiscard]] Bytes encode_messages(const std::vector<StoredMessage>& m);
[[nodiscard]] std::vector<StoredMessage> decode_messages(ByteView b);

}  // namespace veil::node
