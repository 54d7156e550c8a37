#pragma once
/// The outbox: stores of a send saved before they leave, so an interrupted send is finished later
/// with the same bytes (the node keeps a repeated store once: same message hash).

#include <vector>

#include "account.hpp"

namespace veil::messenger {

/// Key prefix of queued outgoing stores ("out/<message id hex>").
inline constexpr std::string_view kOutboxPrefix = "out/";
/// The outbox entry of a send: every store it still has to make.
[[nodiscard]] sdk::storage::BatchOp outbox_op(const MessageId& id, const std::vector<node::StoreRequest>& stores);
/// Throws wire::DecodeError.
[[nodiscard]] std::vector<node::StoreRequest> decode_outbox(wire::ByteView bytes);

}  // namespace veil::messenger
