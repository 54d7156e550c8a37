#include "bus_server.hpp"

#include <filesystem>

#include "group_commands.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;

// The ID in `text`, or nullopt after failing the responder with bad_input.
template <class Reply>
std::optional<crypto::VeilId> id_or_fail(const std::string& text, const sdk::Responder<Reply>& out) {
    try {
        return crypto::parse_veil_id(text);
    } catch (const crypto::Error& e) {
        out.fail(sdk::ErrorCode::bad_input, std::string("unknown ID format: ") + e.what());
        return std::nullopt;
    }
}

// The group ID in `text` when it has a group ID's shape (03...), else nullopt; a malformed one
// fails the responder (then `failed` is set).
template <class Reply>
std::optional<crypto::GroupId> group_or_fail(const std::string& text, const sdk::Responder<Reply>& out, bool& failed) {
    failed = false;
    if (!looks_like_group_id(text)) return std::nullopt;
    try {
        return crypto::parse_group_id(text);
    } catch (const crypto::Error& e) {
        failed = true;
        out.fail(sdk::ErrorCode::bad_input, std::string("unknown group ID format: ") + e.what());
        return std::nullopt;
    }
}

// The group ID in `text`, or nullopt after failing the responder (also for a person's ID).
template <class Reply>
std::optional<crypto::GroupId> required_group(const std::string& text, const sdk::Responder<Reply>& out) {
    bool failed = false;
    auto g = group_or_fail(text, out, failed);
    if (!g && !failed) out.fail(sdk::ErrorCode::bad_input, "unknown group ID format: a group ID is 03 followed by 64 hex characters");
    return g;
}

// The Veil IDs of `texts`, or nullopt after failing the responder.
template <class Reply>
std::optional<std::vector<crypto::VeilId>> ids_or_fail(const std::vector<std::string>& texts,
                                                       const sdk::Responder<Reply>& out) {
    std::vector<crypto::VeilId> ids;
    for (const auto& t : texts) {
        auto id = id_or_fail(t, out);
        if (!id) return std::nullopt;
        ids.push_back(*id);
    }
    return ids;
}

// A Fail that passes the error on as it is.
template <class Reply>
Fail passing(const sdk::Responder<Reply>& out) {
    return [out](const sdk::Error& e) { out.fail(e.code, e.message); };
}

template <class Reply>
bool open_or_fail(const Client& c, const sdk::Responder<Reply>& out) {
    if (c.is_open()) return true;
    out.fail(sdk::ErrorCode::not_found, "no identity (the client is not running yet)");
    return false;
}

// A Fail that answers the responder with `code` and the error's sentence. The contract's code
// stays the one it always was for these requests (bad_input), whatever the cause.
template <class Reply>
Fail failing(const sdk::Responder<Reply>& out, sdk::ErrorCode code = sdk::ErrorCode::handler_failed) {
    return [out, code](const sdk::Error& e) { out.fail(code, e.message); };
}

// A group message: text only (files to groups are not built yet).
void send_group_message(Client& c, const crypto::GroupId& g, const sm::SendMessage& req, const sdk::Responder<sm::Queued>& out) {
    if (!req.file_path.empty()) return out.fail(sdk::ErrorCode::bad_input, "files to a group are not supported yet");
    if (c.groups().state(g) != nullptr && c.groups().is_request(g)) {
        return out.fail(sdk::ErrorCode::refused, "accept the group's invitation first");
    }
    c.send_group(g, req.text, [&c, out](const MessageRecord& r) { out.reply({c.view(r), ""}); }, passing(out));
}

// The requests of serve_done that mean something for a group: read marks and accepting its
// invitation; the others (contacts, blocking, timers) are for people.
template <class R>
void group_done(Client& c, const R&, const crypto::GroupId& g, const sdk::Responder<sm::Done>& out) {
    if constexpr (std::is_same_v<R, sm::MarkRead>) {
        c.mark_read(g, [out] { out.reply({}); }, passing(out));
    } else if constexpr (std::is_same_v<R, sm::AcceptRequest>) {
        c.accept_group(g, [&c, g, out] {
            c.publish_group(g);
            out.reply({});
        }, passing(out));
    } else {
        out.fail(sdk::ErrorCode::bad_input, "this is for a person's Veil ID, not a group ID");
    }
}

template <class R>
void serve_done(sdk::Context& ctx, Client& c,
                std::function<void(const R&, const crypto::VeilId&, std::function<void()>, Fail)> act,
                std::string R::*id_field) {
    ctx.serve<R>([&c, act, id_field](const R& req, sdk::Responder<sm::Done> out) {
        if (!open_or_fail(c, out)) return;
        bool failed = false;
        if (auto g = group_or_fail(req.*id_field, out, failed)) return group_done(c, req, *g, out);
        if (failed) return;
        auto id = id_or_fail(req.*id_field, out);
        if (!id) return;
        act(req, *id, [out] { out.reply({}); }, failing(out, sdk::ErrorCode::bad_input));
    });
}

// Sends what a change queued, in the background (a one-shot client's next command sends it too).
void flush_later(Client& c) {
    c.flush([] {}, [](const sdk::Error&) {});
}

void serve_groups(sdk::Context& ctx, Client& c) {
    ctx.serve<sm::ListGroups>([&c](const sm::ListGroups&, sdk::Responder<sm::GroupList> out) {
        if (!open_or_fail(c, out)) return;
        sm::GroupList list;
        for (const auto& g : c.groups().groups()) list.groups.push_back(c.group_view(g));
        out.reply(std::move(list));
    });
    ctx.serve<sm::GetGroup>([&c](const sm::GetGroup& req, sdk::Responder<sm::Group> out) {
        if (!open_or_fail(c, out)) return;
        auto g = required_group(req.group, out);
        if (!g) return;
        if (c.groups().state(*g) == nullptr) return out.fail(sdk::ErrorCode::not_found, "no group has the ID " + req.group);
        out.reply(c.group_view(*g));
    });
    ctx.serve<sm::CreateGroup>([&c](const sm::CreateGroup& req, sdk::Responder<sm::Group> out) {
        if (!open_or_fail(c, out)) return;
        auto members = ids_or_fail(req.members, out);
        if (!members) return;
        c.create_group(req.name, *members, [&c, out](crypto::GroupId g) {
            c.publish_group(g);
            out.reply(c.group_view(g));
            flush_later(c);
        }, passing(out));
    });
    ctx.serve<sm::ChangeGroup>([&c](const sm::ChangeGroup& req, sdk::Responder<sm::Group> out) {
        if (!open_or_fail(c, out)) return;
        auto g = required_group(req.group, out);
        if (!g) return;
        auto members = ids_or_fail(req.members, out);
        if (!members) return;
        if (members->empty()) return out.fail(sdk::ErrorCode::bad_input, "name at least one member");
        if (req.change == sm::GroupChange::admin && members->size() != 1) {
            return out.fail(sdk::ErrorCode::bad_input, "make one member admin at a time");
        }
        auto kind = req.change == sm::GroupChange::add      ? Client::GroupChange::add
                    : req.change == sm::GroupChange::remove ? Client::GroupChange::remove
                                                            : Client::GroupChange::admin;
        c.change_group(kind, *g, *members, [&c, g = *g, out] {
            c.publish_group(g);
            out.reply(c.group_view(g));
            flush_later(c);
        }, passing(out));
    });
}

}  // namespace

void serve_messenger_contract(sdk::Context& ctx, Client& c) {
    ctx.serve<sm::GetProfile>([&c](const sm::GetProfile&, sdk::Responder<sm::Profile> out) {
        if (!open_or_fail(c, out)) return;
        out.reply({c.account()->id().str(), wire::to_hex(c.account()->device().signing_key())});
    });
    ctx.serve<sm::SendMessage>([&c](const sm::SendMessage& req, sdk::Responder<sm::Queued> out) {
        if (!open_or_fail(c, out)) return;
        bool failed = false;
        if (auto g = group_or_fail(req.to, out, failed)) return send_group_message(c, *g, req, out);
        if (failed) return;
        auto to = id_or_fail(req.to, out);
        if (!to) return;
        c.send(*to, req.text, req.file_path, req.keep_metadata, req.file_name,
               [&c, out](const MessageRecord& r) {
                   out.reply({c.view(r), r.message.attachment ? r.message.attachment->notice : std::string()});
               },
               failing(out, sdk::ErrorCode::bad_input));
    });
    ctx.serve<sm::ListConversations>([&c](const sm::ListConversations&, sdk::Responder<sm::ConversationList> out) {
        if (!open_or_fail(c, out)) return;
        out.reply({c.conversations()});
    });
    ctx.serve<sm::ListMessages>([&c](const sm::ListMessages& req, sdk::Responder<sm::MessageList> out) {
        if (!open_or_fail(c, out)) return;
        sm::MessageList list;
        bool failed = false;
        if (auto g = group_or_fail(req.peer, out, failed)) {
            for (const auto& r : c.messages(*g, req.limit)) list.messages.push_back(c.view(r));
            return out.reply(std::move(list));
        }
        if (failed) return;
        auto peer = id_or_fail(req.peer, out);
        if (!peer) return;
        for (const auto& r : c.messages(*peer, req.limit)) list.messages.push_back(c.view(r));
        out.reply(std::move(list));
    });
    ctx.serve<sm::ListContacts>([&c](const sm::ListContacts&, sdk::Responder<sm::ContactList> out) {
        if (!open_or_fail(c, out)) return;
        sm::ContactList list;
        for (const auto& k : c.contacts()) list.contacts.push_back({k.id.str(), k.name, k.accepted, k.blocked});
        out.reply(std::move(list));
    });
    ctx.serve<sm::ListDevices>([&c](const sm::ListDevices&, sdk::Responder<sm::DeviceList> out) {
        if (!open_or_fail(c, out)) return;
        sm::DeviceList list;
        const auto& a = *c.account();
        for (const auto& e : a.device_list().entries()) {
            list.devices.push_back({wire::to_hex(e.signing_key), "", e.signing_key == a.device().signing_key(),
                                    e.revoked(), e.added_ms});
        }
        out.reply(std::move(list));
    });
    ctx.serve<sm::ReadAttachment>([&c](const sm::ReadAttachment& req, sdk::Responder<sm::AttachmentContent> out) {
        if (!open_or_fail(c, out)) return;
        c.open_file(req.message_id, "", "", [out](sdk::attachment::OpenedAttachment opened, const MessageRecord& r) {
            sm::AttachmentContent content{std::move(opened.bytes), r.message.attachment->file_name,
                                          r.message.attachment->mime_type};
            out.reply(std::move(content));
        }, [out](const sdk::Error& e) { out.fail(e.code, e.message); });
    });
    // Also one-shot (`veil attachment save`): the client is opened for it, read-only.
    ctx.serve<sm::SaveAttachment>([&c](const sm::SaveAttachment& req, sdk::Responder<sm::SavedAttachment> out) {
        auto fail = [out](const sdk::Error& e) { out.fail(e.code, e.message); };
        auto save = [&c, req, out, fail] {
            std::error_code ec;
            bool into_dir = std::filesystem::is_directory(req.path, ec);
            c.open_file(req.message_id, into_dir ? req.path : "", into_dir ? "" : req.path,
                        [out](sdk::attachment::OpenedAttachment opened, const MessageRecord&) {
                            out.reply({opened.path});
                        },
                        fail);
        };
        if (c.is_open()) return save();
        c.open(save, fail, false);
    });
    serve_groups(ctx, c);
    serve_done<sm::MarkRead>(ctx, c, [&c](const sm::MarkRead&, const crypto::VeilId& id, auto done, Fail fail) {
        c.mark_read(id, done, fail);
    }, &sm::MarkRead::peer);
    serve_done<sm::SaveContact>(ctx, c, [&c](const sm::SaveContact& r, const crypto::VeilId& id, auto done, Fail fail) {
        c.save_contact(id, r.name, done, fail);
    }, &sm::SaveContact::id);
    serve_done<sm::AcceptRequest>(ctx, c, [&c](const sm::AcceptRequest&, const crypto::VeilId& id, auto done, Fail fail) {
        c.accept(id, done, fail);
    }, &sm::AcceptRequest::id);
    serve_done<sm::SetBlocked>(ctx, c, [&c](const sm::SetBlocked& r, const crypto::VeilId& id, auto done, Fail fail) {
        c.set_blocked(id, r.blocked, done, fail);
    }, &sm::SetBlocked::id);
    serve_done<sm::SetDisappearing>(ctx, c, [&c](const sm::SetDisappearing& r, const crypto::VeilId& id, auto done,
                                                 Fail fail) { c.set_disappearing(id, r.seconds, done, fail); },
                                    &sm::SetDisappearing::peer);
}

}  // namespace veil::messenger
