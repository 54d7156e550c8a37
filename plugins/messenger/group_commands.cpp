#include "group_commands.hpp"

#include <nlohmann/json.hpp>

#include "messenger_commands.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

constexpr const char* kGroupUsage =
    "group create NAME [ID...] | group add GROUP ID... | group remove GROUP ID... | group admin GROUP ID | "
    "group accept GROUP | group decline GROUP | group leave GROUP | group list [--json] | group members GROUP [--json]";

std::optional<crypto::GroupId> parse_group(const sdk::CommandCall& call, const std::string& what, const std::string& text) {
    try {
        return crypto::parse_group_id(text);
    } catch (const crypto::Error& e) {
        call.fail(what + ": unknown group ID format: " + e.what() + " (a group ID is 03 followed by 64 hex characters)");
        return std::nullopt;
    }
}

// The people named from `from` on, or nullopt after failing the call.
std::optional<std::vector<crypto::VeilId>> parse_people(const sdk::CommandCall& call, const std::string& what,
                                                        const std::vector<std::string>& args, std::size_t from) {
    std::vector<crypto::VeilId> out;
    for (std::size_t i = from; i < args.size(); ++i) {
        try {
            out.push_back(crypto::parse_veil_id(args[i]));
        } catch (const crypto::Error& e) {
            call.fail(what + ": unknown ID format: " + e.what() + " (a Veil ID is 05 followed by 64 hex characters)");
            return std::nullopt;
        }
    }
    return out;
}

// What a command says when a flush left something waiting: it did not leave, so no exit 0.
constexpr const char* kToldLater = "; the members are told with your next veil command (";

// Sends what a change queued; the change itself is saved either way. One of its own messages
// held (a swarm refused it, keys not published yet) did not reach the members: not a success;
// another's held in the same queue says nothing about this command.
void flush_then(Client& client, const sdk::CommandCall& call, const std::string& what, std::string out) {
    client.flush([&client, call, what, out, mine = client.last_group_queued()] {
        call.out(out);
        if (auto why = client.held_reason(mine); !why.empty()) {
            return call.fail(what + ": saved here, but a message waits to be sent" + kToldLater + why + ")",
                             sdk::exit_code::failure);
        }
        call.finish(sdk::exit_code::ok);
    }, [call, what, out](const sdk::Error& e) {
        call.out(out);
        call.fail(what + ": saved here" + kToldLater + e.message + ")", sdk::exit_code::failure);
    });
}

std::string role_name(crypto::GroupRole r) { return r == crypto::GroupRole::admin ? "admin" : "member"; }

void list_groups(Client& client, const sdk::CommandCall& call, bool json) {
    std::string out;
    for (const auto& g : client.groups().groups()) {
        const auto* s = client.groups().state(g);
        if (s == nullptr) continue;
        bool request = client.groups().is_request(g);
        bool admin = s->is_admin(client.account()->id());
        if (json) {
            nlohmann::json j{{"id", crypto::group_id_str(g)}, {"name", s->name()}, {"members", s->members().size()},
                             {"admin", admin}, {"request", request}, {"version", s->version()}};
            out += j.dump() + "\n";
        } else {
            out += crypto::group_id_str(g) + "  " + s->name() + "  " + std::to_string(s->members().size()) + " members" +
                   (admin ? "  admin" : "") + (request ? "  request" : "") + "\n";
        }
    }
    call.out(out);
    call.finish(sdk::exit_code::ok);
}

void list_members(Client& client, const sdk::CommandCall& call, const crypto::GroupId& g, bool json) {
    const auto* s = client.groups().state(g);
    if (s == nullptr) return call.fail("veil group members: no group has the ID " + crypto::group_id_str(g), sdk::exit_code::failure);
    std::string out;
    for (const auto& m : s->members()) {
        if (json) out += nlohmann::json{{"id", m.id.str()}, {"role", role_name(m.role)}}.dump() + "\n";
        else out += m.id.str() + "  " + role_name(m.role) + "\n";
    }
    call.out(out);
    call.finish(sdk::exit_code::ok);
}

void cmd_group(Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    const std::string usage = std::string("usage: veil ") + kGroupUsage;
    if (args.empty()) return call.fail(usage);
    const auto verb = args[0];
    const std::string what = "veil group " + verb;
    bool json = args.size() > 1 && args.back() == "--json";
    if (json) args.pop_back();
    if (verb == "list") {
        if (args.size() != 1) return call.fail(usage);
        return client.open([&client, call, json] { list_groups(client, call, json); }, failer(call, what), false);
    }
    if (json && verb != "members") return call.fail(usage);
    if (verb == "create") {
        if (args.size() < 2) return call.fail(usage);
        auto people = parse_people(call, what, args, 2);
        if (!people) return;
        return client.open([&client, call, what, name = args[1], people = *people] {
            client.create_group(name, people, [&client, call, what](crypto::GroupId id) {
                flush_then(client, call, what, crypto::group_id_str(id) + "\n");
            }, failer(call, what));
        }, failer(call, what));
    }
    bool change = verb == "add" || verb == "remove" || verb == "admin";
    if (verb == "members" || verb == "accept" || verb == "decline" || verb == "leave") {
        if (args.size() != 2) return call.fail(usage);
    } else if (!change || args.size() < 3 || (verb == "admin" && args.size() != 3)) {
        return call.fail(usage);
    }
    auto group = parse_group(call, what, args[1]);
    if (!group) return;
    if (verb == "members") {
        return client.open([&client, call, g = *group, json] { list_members(client, call, g, json); }, failer(call, what),
                           false);
    }
    if (verb == "accept") {
        return client.open([&client, call, what, g = *group] {
            client.accept_group(g, [call] { call.finish(sdk::exit_code::ok); }, failer(call, what));
        }, failer(call, what));
    }
    if (verb == "decline") {
        return client.open([&client, call, what, g = *group] {
            client.decline_group(g, [call] {
                call.out("declined\n");
                call.finish(sdk::exit_code::ok);
            }, failer(call, what));
        }, failer(call, what));
    }
    if (verb == "leave") {
        return client.open([&client, call, what, g = *group] {
            client.leave_group(g, [&client, call, what] { flush_then(client, call, what, "left\n"); }, failer(call, what));
        }, failer(call, what));
    }
    auto people = parse_people(call, what, args, 2);
    if (!people) return;
    auto kind = verb == "add" ? Client::GroupChange::add : verb == "remove" ? Client::GroupChange::remove
                                                                            : Client::GroupChange::admin;
    client.open([&client, call, what, kind, g = *group, people = *people] {
        client.change_group(kind, g, people, [&client, call, what, g] {
            const auto* s = client.groups().state(g);
            flush_then(client, call, what, "group version " + std::to_string(s ? s->version() : 0) + "\n");
        }, failer(call, what));
    }, failer(call, what));
}

}  // namespace

bool looks_like_group_id(const std::string& text) {
    return text.size() == crypto::group_id_chars && text.starts_with("03");
}

void send_to_group(Client& client, const sdk::CommandCall& call, const std::string& group_text, std::string text) {
    auto group = parse_group(call, "veil send", group_text);
    if (!group) return;
    client.open([&client, call, g = *group, text = std::move(text)]() mutable {
        client.send_group(g, std::move(text), [&client, call](const MessageRecord& r) {
            client.flush([&client, call, r, mine = client.last_group_queued()] {
                // The message, or the chain the members need to read it, still waits: not sent.
                if (auto why = client.held_reason(mine); !why.empty()) {
                    return call.fail("veil send: " + why + "\nThe message is queued: the next veil send or veil receive sends it.",
                                     sdk::exit_code::failure);
                }
                call.out("sent " + wire::to_hex(r.message.id) + "\n");
                call.finish(sdk::exit_code::ok);
            }, [call](const sdk::Error& e) {
                call.fail("veil send: " + e.message + "\nThe message is queued: the next veil send or veil receive sends it.",
                          sdk::exit_code::failure);
            });
        }, failer(call, "veil send"));
    }, failer(call, "veil send"));
}

void add_group_commands(sdk::Context& ctx, Client& client) {
    ctx.add_command({"group", "closed groups: create, add, remove, admin, accept, decline, leave, list, members", kGroupUsage,
                     [&client](sdk::CommandCall call) { cmd_group(client, call); }});
}

}  // namespace veil::messenger
