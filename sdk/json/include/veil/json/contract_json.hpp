#pragma once
/// JSON shapes of the messenger and attachment contract types, for every frontend that speaks
/// JSON (rpc, web, third-party ones). Field names follow the bus structs (units in names:
/// sent_at_ms); enums become strings. Part of the SDK package (VeilSDK::json).
#include <nlohmann/json.hpp>

#include "veil/sdk/attachment.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::contract_json {

using json = nlohmann::json;

/// "queued", "sent", "failed" or "received".
const char* delivery_name(sdk::messenger::Delivery d);

json to_json(const sdk::messenger::Message& m);
json to_json(const sdk::messenger::Conversation& c);
json to_json(const sdk::messenger::Contact& c);
json to_json(const sdk::messenger::Device& d);
json to_json(const sdk::messenger::Profile& p);
/// {"id","name","admin","request","version","members":[{"id","role": "admin"|"member"}]}
json to_json(const sdk::messenger::Group& g);
json to_json(const sdk::attachment::TransferProgress& p);

}  // namespace veil::contract_json
