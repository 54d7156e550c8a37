#pragma once
/// `veil --config FILE node status`: a running node's counters for its operator, read from the
/// metrics endpoint the config names (docs/service-node.md §Metrics). Loop thread only.

#include <string>

#include "veil/sdk/context.hpp"

namespace veil::node {

/// Registers the `node` command; `metrics_listen` is the config's [service-node] metrics_listen.
void add_status_command(sdk::Context& ctx, std::string metrics_listen);

}  // namespace veil::node
