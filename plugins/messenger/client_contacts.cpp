// Contacts, requests, blocking, disappearing timers and read marks: saved here, and (except read
// marks) queued for our other devices.
#include "client.hpp"
#include "outbox.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;

sdk::Error own_id() { return {sdk::ErrorCode::bad_input, "that is your own ID"}; }

}  // namespace

void Client::update_contact(ContactRecord c, bool sync, std::function<void()> done, Fail fail) {
    std::vector<sdk::storage::BatchOp> ops{contact_op(c)};
    // Queued even when this device knows no other: the queue run reads the current device list,
    // so a device added since still gets it (the next send, receive or resident flush).
    if (sync) {
        ChatMessage m = make_text(c.name, now_ms());
        m.kind = ChatKind::contact;
        m.contact_flags = static_cast<std::uint8_t>((c.accepted ? kContactAccepted : 0) | (c.blocked ? kContactBlocked : 0));
        m.disappear_after_s = c.disappear_after_s;
        m.sync_peer = c.id;
        ops.push_back(queued_op(account_->id(), m));
    }
    bool queued = ops.size() > 1;
    store_.write(std::move(ops), [this, c, queued, done] {
        model_.set_contact(c);
        ctx_.bus().publish(sm::ConversationUpdated{conversation(c.id)});
        if (queued && resident_) flush_in_background();
        if (c.accepted && !c.blocked) return after_accept(c.id, done);
        done();
    }, fail);
}

void Client::save_contact(const crypto::VeilId& id, std::string name, std::function<void()> done, Fail fail) {
    if (name.size() > kMaxContactNameBytes) return fail({sdk::ErrorCode::bad_input, "the name is longer than 128 bytes"});
    if (id == account_->id()) return fail(own_id());
    auto c = contact(id).value_or(ContactRecord{id, "", false, false, 0});
    c.name = std::move(name);
    c.accepted = true;
    update_contact(std::move(c), true, std::move(done), std::move(fail));
}

void Client::accept(const crypto::VeilId& id, std::function<void()> done, Fail fail) {
    auto c = contact(id);
    if (!c) return fail({sdk::ErrorCode::not_found, "no message request from " + id.str()});
    c->accepted = true;
    update_contact(std::move(*c), true, std::move(done), std::move(fail));
}

void Client::set_blocked(const crypto::VeilId& id, bool blocked, std::function<void()> done, Fail fail) {
    if (id == account_->id()) return fail(own_id());
    auto c = contact(id).value_or(ContactRecord{id, "", false, false, 0});
    c.blocked = blocked;
    // Their group requests go with them (what they send from now on is dropped unread).
    std::vector<sdk::storage::BatchOp> ops;
    if (blocked) {
        for (const auto& g : groups_->decline_from(id)) ops.push_back(erase_op(group_record_key(g)));
        if (!ops.empty()) {
            for (auto& op : groups_->save_ops(kStorageNs)) ops.push_back(std::move(op));  // the declines remembered
        }
    }
    if (ops.empty()) return update_contact(std::move(c), true, std::move(done), std::move(fail));
    store_.write(std::move(ops), [this, c, done, fail] { update_contact(c, true, done, fail); },
                 [this, fail](const sdk::Error& e) { load_groups([fail, e] { fail(e); }, fail); });
}

void Client::set_disappearing(const crypto::VeilId& peer, std::uint32_t seconds, std::function<void()> done, Fail fail) {
    if (seconds > kMaxDisappearS) {
        return fail({sdk::ErrorCode::bad_input, "the longest timer is 14 days (1209600 seconds)"});
    }
    if (peer == account_->id()) return fail(own_id());
    auto c = contact(peer).value_or(ContactRecord{peer, "", true, false, 0});
    c.disappear_after_s = seconds;
    c.accepted = true;
    // The timer message itself reaches our other devices too.
    update_contact(c, false, [this, peer, seconds, done, fail] {
        ChatMessage m = make_text("", now_ms());
        m.kind = ChatKind::timer;
        m.disappear_after_s = seconds;
        enqueue(peer, std::move(m), [done](const MessageRecord&) { done(); }, fail);
    }, fail);
}

void Client::mark_read(const crypto::VeilId& peer, std::function<void()> done, Fail fail) {
    save_read_marks(model_.mark_read(peer), [this, peer] { return conversation(peer); }, std::move(done), std::move(fail));
}

void Client::save_read_marks(std::vector<MessageRecord> changed, std::function<sm::Conversation()> summary,
                             std::function<void()> done, Fail fail) {
    std::vector<sdk::storage::BatchOp> ops;
    for (const auto& r : changed) ops.push_back(record_op(r));
    store_.write(std::move(ops), [this, summary, changed, done] {
        for (const auto& r : changed) ctx_.bus().publish(sm::MessageUpdated{view(r)});
        if (!changed.empty()) ctx_.bus().publish(sm::ConversationUpdated{summary()});
        done();
    }, fail);
}

}  // namespace veil::messenger
