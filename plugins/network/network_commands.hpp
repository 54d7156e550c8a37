#pragma once
// `veil network status|info|store`: look at the network and talk to nodes through the enabled
// transport (onion by default). For people checking their set-up and for integration tests.
#include "manifest_source.hpp"
#include "swarm_client.hpp"
#include "veil/sdk/context.hpp"

namespace veil::network {

/// Registers the `network` command. `source` and `swarms` must outlive ctx's commands.
void add_network_command(sdk::Context& ctx, ManifestSource& source, SwarmClient& swarms);

}  // namespace veil::network
