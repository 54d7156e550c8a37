#include "bus_server.hpp"

#include <filesystem>

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

template <class R>
void serve_done(sdk::Context& ctx, Client& c,
                std::function<void(const R&, const crypto::VeilId&, std::function<void()>, Fail)> act,
                std::string R::*id_field) {
    ctx.serve<R>([&c, act, id_field](const R& req, sdk::Responder<sm::Done> out) {
        if (!open_or_fail(c, out)) return;
        auto id = id_or_fail(req.*id_field, out);
        if (!id) return;
        act(req, *id, [out] { out.reply({}); }, failing(out, sdk::ErrorCode::bad_input));
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
        auto peer = id_or_fail(req.peer, out);
        if (!peer) return;
        sm::MessageList list;
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
