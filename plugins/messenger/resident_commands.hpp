#pragma once
/// The commands that run the resident client: `veil daemon` (until SIGINT/SIGTERM, serving the
/// messenger contract to frontends) and `veil chat ID` (lines on stdin are sent, the
/// conversation's incoming messages are printed; EOF or Ctrl-C ends it).

#include "client.hpp"

namespace veil::messenger {

/// Registers daemon and chat; `client` must outlive ctx's commands.
void add_resident_commands(sdk::Context& ctx, Client& client);

/// Opens the client and runs it resident; `online` once it is (or `fail`).
void start_resident(Client& client, std::function<void()> online, Fail fail);

}  // namespace veil::messenger
