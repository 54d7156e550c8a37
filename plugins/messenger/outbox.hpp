#pragma once
/// The send queue, in two stages, both in the database so that nothing is lost or sent twice:
///  - queued: a message written but not encrypted yet ("q/<sent_at hex>/<id hex>": peer and
///    message), kept until its envelopes are made, oldest first;
///  - outbox: the envelopes of an encrypted message ("out/<id hex>"), kept until every one is
///    stored; resent with the same bytes (the node keeps a repeated store once: same hash).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "account.hpp"

namespace veil::messenger {

/// Key prefix of queued outgoing stores ("out/<message id hex>").
inline constexpr std::string_view kOutboxPrefix = "out/";
/// The outbox key of a send ("out/<message id hex>").
[[nodiscard]] std::string outbox_key(const MessageId& id);
/// The message id an outbox key names; nullopt for a key that is not one.
[[nodiscard]] std::optional<MessageId> outbox_id(std::string_view key);
/// The outbox entry of a send: every store it still has to make.
[[nodiscard]] sdk::storage::BatchOp outbox_op(const MessageId& id, const std::vector<proto::node::StoreRequest>& stores);
/// Throws wire::DecodeError.
[[nodiscard]] std::vector<proto::node::StoreRequest> decode_outbox(wire::ByteView bytes);

/// Key prefix of queued, not yet encrypted messages.
inline constexpr std::string_view kQueuePrefix = "q/";
/// The queue entry of a message to `to`.
[[nodiscard]] sdk::storage::BatchOp queued_op(const crypto::VeilId& to, const ChatMessage& message);
/// Throws wire::DecodeError.
[[nodiscard]] std::pair<crypto::VeilId, ChatMessage> decode_queued(wire::ByteView bytes);

/// Why one of `mine` still waits after a send run (SendQueue::held: a swarm refused it, keys not
/// published yet), or empty when none does: a command is judged by its own messages, never by
/// another's held in the same queue (DESIGN.md §8: a send exits 0 once its message is stored).
[[nodiscard]] std::string held_reason(const std::map<MessageId, sdk::Error>& held, const std::vector<MessageId>& mine);

}  // namespace veil::messenger
