#pragma once
/// Catch-up planning: what a node merges and fetches after comparing one bucket with a peer's.
/// The peer protocol itself (envelopes, op lists, summaries) is veil/proto/peer_rpc.hpp.

#include "store.hpp"

namespace veil::node {

/// What a node does with a peer's bucket: merge these (proven) states, fetch these messages' data.
struct CatchUpPlan {
    std::vector<ReplicaOp> merge;
    std::vector<Hash> fetch;
};
[[nodiscard]] CatchUpPlan plan_catch_up(const std::vector<MessageState>& local, const std::vector<ReplicaOp>& remote);

}  // namespace veil::node
