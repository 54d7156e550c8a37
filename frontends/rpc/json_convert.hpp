#pragma once
// JSON shapes of the messenger and attachment contract types, as RPC clients see them.
// Field names follow the bus structs (units in names: sent_at_ms); enums become strings.
#include <nlohmann/json.hpp>

#include "veil/sdk/attachment.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::rpc {

using json = nlohmann::json;

/// "queued", "sent", "failed" or "received".
const char* delivery_name(sdk::messenger::Delivery d);

json to_json(const sdk::messenger::Message& m);
json to_json(const sdk::messenger::Conversation& c);
json to_json(const sdk::messenger::Contact& c);
json to_json(const sdk::messenger::Device& d);
json to_json(const sdk::messenger::Profile& p);
json to_json(const sdk::attachment::TransferProgress& p);

}  // namespace veil::rpc
