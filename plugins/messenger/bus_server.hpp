#pragma once
/// Serves the messenger contract (sdk/messenger.hpp) on the bus from a resident Client.

#include "client.hpp"

namespace veil::messenger {

/// Registers a server for every request of sdk/messenger.hpp for the lifetime of ctx. Requests
/// fail with not_found ("no identity") until `client` is open. `client` must outlive ctx's servers.
void serve_messenger_contract(sdk::Context& ctx, Client& client);

}  // namespace veil::messenger
