#pragma once
/// `veil group ...` (create, add, remove, admin, list, members) and `veil send GROUP TEXT`: the
/// closed-group commands of the command-line contract (docs/messenger.md, docs/groups.md).

#include "client.hpp"
#include "veil/sdk/context.hpp"

namespace veil::messenger {

/// Registers `group` on ctx; `client` must outlive ctx's commands.
void add_group_commands(sdk::Context& ctx, Client& client);

/// True when `text` is written as a group ID ("03" + 64 hex), as `veil send` tells them apart.
[[nodiscard]] bool looks_like_group_id(const std::string& text);

/// `veil send GROUP TEXT`: seals, saves, sends; prints `sent <message id>`.
void send_to_group(Client& client, const sdk::CommandCall& call, const std::string& group_text, std::string text);

}  // namespace veil::messenger
