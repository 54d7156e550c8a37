#pragma once
/// Inbox items handled here whose delete from the swarm has not been answered yet, kept in the
/// database (storage contract, kStorageNs) so that a stop, a crash or a delete that keeps failing
/// loses none of them (issue 16): "delete/<hash hex>" -> nothing, written in the batch that saves
/// the round that handled them, erased once the swarm took their delete. The resident client
/// deletes what is left when it starts, and does not open those items again meanwhile.

#include <optional>
#include <string>
#include <string_view>

#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/storage.hpp"

namespace veil::messenger {

inline constexpr std::string_view kPendingDeletePrefix = "delete/";

/// The op that keeps `hash` as a pending delete.
[[nodiscard]] sdk::storage::BatchOp pending_delete_op(const proto::node::Hash& hash);
/// The op that forgets it (its delete was answered, or it was given up).
[[nodiscard]] sdk::storage::BatchOp pending_delete_erase_op(const proto::node::Hash& hash);
/// The hash a stored key names, or nothing for a key that is not one (damaged: skipped).
[[nodiscard]] std::optional<proto::node::Hash> pending_delete_hash(std::string_view key);

}  // namespace veil::messenger
