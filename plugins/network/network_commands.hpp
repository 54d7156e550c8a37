#pragma once
// `veil network status|info|store`: look at the network and talk to nodes through the enabled
// transport (onion by default). For people checking their set-up and for integration tests.
#include "network_server.hpp"
#include "veil/sdk/context.hpp"

namespace veil::network {

/// Registers the `network` command. `server` must outlive ctx's commands.
void add_network_command(sdk::Context& ctx, NetworkServer& server);

}  // namespace veil::network
