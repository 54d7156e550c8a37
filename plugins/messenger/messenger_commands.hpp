#pragma once
/// The messenger's CLI commands (DESIGN.md §8): init, id, send, receive.

#include "service.hpp"

namespace veil::messenger {

/// Registers init, id, send and receive on ctx; `service` must outlive ctx's commands.
void add_messenger_commands(sdk::Context& ctx, Service& service);

}  // namespace veil::messenger
