// Sending: a message is queued (record and queue entry in one batch) before anything else; a
// flush runs the send queue, one at a time, then marks what it sent; failures are retried with
// backoff in resident mode; a message that can never go out turns failed.
#include <filesystem>
#include <set>

#include "client.hpp"
#include "outbox.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;
constexpr std::uint32_t kTransferTimeoutMs = 180'000;

}  // namespace

void Client::send(const crypto::VeilId& to, std::string text, std::string file_path, bool keep_metadata, std::string file_name,
                  std::function<void(const MessageRecord&)> queued, Fail fail) {
    if (to == account_->id()) return fail({sdk::ErrorCode::bad_input, "cannot send a message to yourself"});
    ChatMessage m;
    try {
        m = make_text(std::move(text), now_ms());
    } catch (const std::invalid_argument& e) {
        return fail({sdk::ErrorCode::bad_input, e.what()});
    }
    if (file_path.empty()) {
        if (m.text.empty()) return fail({sdk::ErrorCode::bad_input, "the message is empty"});
        return enqueue(to, std::move(m), std::move(queued), std::move(fail));
    }
    m.kind = ChatKind::attachment;
    sdk::attachment::UploadAttachment up;
    std::error_code ec;
    up.path = std::filesystem::absolute(file_path, ec).string();
    if (ec) return fail({sdk::ErrorCode::io, "cannot read " + file_path + ": " + ec.message()});
    up.transfer_id = wire::to_hex(m.id);
    up.keep_metadata = keep_metadata;
    up.file_name = std::move(file_name);
    bool asked = ctx_.bus().request<sdk::attachment::UploadAttachment>(
        std::move(up), kTransferTimeoutMs,
        [this, to, m, queued, fail](sdk::Result<sdk::attachment::AttachmentRef> r) mutable {
            if (!r && r.error().code == sdk::ErrorCode::no_handler) {
                return fail({sdk::ErrorCode::no_handler, std::string(kNoAttachments)});
            }
            if (!r) return fail({r.error().code, "the file was not sent: " + r.error().message});
            m.attachment = std::move(r).value();
            enqueue(to, std::move(m), queued, fail);
        });
    if (!asked) fail({sdk::ErrorCode::closed, "the bus is closed"});
}

void Client::enqueue(const crypto::VeilId& to, ChatMessage message, std::function<void(const MessageRecord&)> queued,
                     Fail fail) {
    // Numbered as queued, in the order the person wrote them: receivers show them in this order.
    if (message.kind != ChatKind::timer) message.seq = model_.take_seq(to);
    auto out = model_.outgoing(to, std::move(message), now_ms());
    std::vector<sdk::storage::BatchOp> ops{queued_op(to, out.record.message)};
    bool shown = out.record.message.kind != ChatKind::timer;
    if (shown) ops.push_back(record_op(out.record));
    if (out.accepted_now) ops.push_back(contact_op(out.contact));
    // Queued first: from here on the message is never lost, and it goes out exactly once.
    store_.write(std::move(ops), [this, out, shown, queued] {
        if (out.accepted_now) {
            model_.set_contact(out.contact);
            ctx_.bus().publish(sm::ConversationUpdated{conversation(out.contact.id)});
        }
        if (shown) put_message(out.record, true);
        auto then = [this, r = out.record, queued] {
            queued(r);
            if (resident_) flush_in_background();
        };
        if (out.accepted_now) return after_accept(out.contact.id, then);
        then();
    }, fail);
}

void Client::flush(std::function<void()> done, Fail fail) {
    if (flush_.running) {
        flush_.next.emplace_back(std::move(done), std::move(fail));
        flush_.again = true;
        return;
    }
    flush_.current.emplace_back(std::move(done), std::move(fail));
    flush_now();
}

void Client::flush_in_background() {
    flush([] {}, [](const sdk::Error&) {});
}

void Client::flush_now() {
    flush_.running = true;
    flush_.again = false;
    flush_.keys = model_.queued_keys();
    auto fail = [this](const sdk::Error& e) { flush_finished(&e); };
    auto account = account_;
    service_.with_manifest([this, account, fail] {
        queue_.run(account, [this, account, fail] {
            if (!account->needs_publish(now_ms())) return flush_finished(nullptr);
            // A publish that did not settle goes out again with backoff, unless the list changed.
            if (!publish_backoff_.due(now_ms(), account->device_list().version())) return flush_finished(nullptr);
            // The messages are out; a publish that no majority of the swarm's members took (most
            // of them down) is tried again by a later flush. Saved either way: the bundle may
            // sit on some members, and its new one-time keys must not be lost.
            auto saved = [this, account, fail] {
                store_.save_account(*account, {}, [this] { flush_finished(nullptr); }, fail);
            };
            service_.publish(account, [this, account, saved](Holders holders) {
                if (holders.settled()) {
                    publish_backoff_.settled();
                } else {
                    publish_backoff_.unsettled(now_ms(), account->device_list().version());
                    ctx_.log().warn("the device list and bundle reached too few members of the swarm: publishing them again later");
                }
                saved();
            }, [this, account, saved](const sdk::Error& e) {
                publish_backoff_.unsettled(now_ms(), account->device_list().version());
                ctx_.log().warn("publishing the device list and bundle again later: {}", e.message);
                saved();
            });
        }, fail);
    }, fail);
}

void Client::flush_finished(const sdk::Error* error) {
    bool waiting = false;
    if (!error) {
        // Everything queued when this flush began is now in every recipient swarm, but for what
        // waits (a swarm refused it, or the recipient's keys are not published yet): the others
        // went out, its record says why, and it is tried again with backoff.
        std::set<MessageId> held;
        std::vector<MessageRecord> changed;
        for (const auto& [id, e] : queue_.held()) {
            held.insert(id);
            if (auto r = model_.note_waiting(id, e.message)) changed.push_back(*r);
        }
        for (auto& r : model_.mark_sent(flush_.keys, held)) changed.push_back(std::move(r));
        std::vector<sdk::storage::BatchOp> ops;
        for (const auto& r : changed) ops.push_back(record_op(r));
        write_or_warn(std::move(ops), [this, changed] {
            for (const auto& r : changed) ctx_.bus().publish(sm::MessageUpdated{view(r)});
        });
        waiting = !held.empty();
        if (waiting) ctx_.log().warn("sending later: {}", queue_.held().begin()->second.message);
        else backoff_.reset();
    }
    auto callers = std::move(flush_.current);
    flush_.current.clear();
    flush_.running = false;
    for (auto& [done, fail] : callers) error ? fail(*error) : done();
    if (!flush_.next.empty() || flush_.again) {
        flush_.current = std::move(flush_.next);
        flush_.next.clear();
        return flush_now();
    }
    if ((error || waiting) && resident_) {
        if (error) ctx_.log().warn("sending later: {}", error->message);
        retry_timer_->start(backoff_.next_ms(), 0, [this] { flush_in_background(); });
    }
}

void Client::mark_dropped(const crypto::VeilId& to, const MessageId& id, const std::string& why) {
    auto failed = model_.mark_failed(to, id, why);
    if (!failed) return;
    write_or_warn({record_op(*failed)}, [this, r = *failed] { ctx_.bus().publish(sm::MessageUpdated{view(r)}); });
}

}  // namespace veil::messenger
