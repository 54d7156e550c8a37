#pragma once
/// The messenger's one-shot CLI commands (DESIGN.md §8): init, id, devices, send, receive,
/// contacts, disappear, messages. The resident ones (daemon, chat) are in resident_commands.hpp.

#include "client.hpp"

namespace veil::messenger {

/// A command's own arguments: without those meant for the storage plugin (--passphrase-file F).
[[nodiscard]] std::vector<std::string> own_args(const std::vector<std::string>& args);
/// Fails the call (exit 1) with `what: <the error>`.
[[nodiscard]] Fail failer(const sdk::CommandCall& call, std::string what);

/// Registers the one-shot commands on ctx; `service`, `store` and `client` must outlive ctx's
/// commands.
void add_messenger_commands(sdk::Context& ctx, Service& service, AccountStore& store, Client& client);

}  // namespace veil::messenger
