// Closed groups in the client (docs/groups.md): the book is loaded with the account and saved in
// the batch of whatever changed it; its control messages travel as queued chat messages of kind
// group_control through the pairwise sessions; a group message is sealed once and put in the
// outbox for the group mailbox; every receive round reads every group mailbox after the inbox.
#include <sodium.h>

#include <algorithm>

#include "client.hpp"
#include "group_leave.hpp"
#include "group_reading.hpp"
#include "outbox.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

namespace st = sdk::storage;
constexpr std::size_t kMaxGroups = 10'000;
// The item hashes a long-running client remembers having handled (the book refuses replays in
// any case: this only spares opening them again).
constexpr std::size_t kMaxHandledItems = 100'000;

// The error a frontend shows for a book's refusal.
sdk::Error group_error(const std::exception& e) {
    if (dynamic_cast<const std::out_of_range*>(&e)) return {sdk::ErrorCode::not_found, e.what()};
    if (auto* c = dynamic_cast<const crypto::Error*>(&e)) {
        if (c->kind() == crypto::ErrorKind::untrusted_key)
            return {sdk::ErrorCode::refused, std::string("only an admin of the group may do that (") + e.what() + ")"};
        return {sdk::ErrorCode::refused, e.what()};
    }
    return {sdk::ErrorCode::bad_input, e.what()};
}

void append(std::vector<st::BatchOp>& to, std::vector<st::BatchOp> more) {
    for (auto& op : more) to.push_back(std::move(op));
}

bool shares_group(const GroupBook& book, const crypto::VeilId& who) {
    for (const auto& g : book.groups()) {
        if (const auto* s = book.state(g); s && s->is_member(who)) return true;
    }
    return false;
}

}  // namespace

void Client::load_groups(std::function<void()> done, Fail fail) {
    store_.scan(kGroupPrefix, kMaxGroups, [this, done, fail](std::vector<st::Entry> entries) {
        try {
            groups_ = std::make_unique<GroupBook>(GroupBook::load(account_->id(), entries));
        } catch (const std::exception& e) {
            return fail({sdk::ErrorCode::io, std::string("the stored groups are damaged: ") + e.what()});
        }
        std::vector<GroupDelivery> rotations;
        sync_group_devices(rotations);
        auto ops = group_upkeep_ops(rotations);
        // A reader (another process owns HOME) changes nothing on disk: the owner does it.
        if (ops.empty() || !exclusive_) return done();
        store_.write(std::move(ops), done, fail);
    }, fail);
}

std::vector<st::BatchOp> Client::group_upkeep_ops(std::vector<GroupDelivery>& deliveries) {
    const auto now = now_ms();
    auto dropped = groups_->expire_requests(now);
    for (auto& d : groups_->rotate_owed(account_->identity(), now)) deliveries.push_back(std::move(d));
    const auto leaves_before = groups_->held_leaves();
    for (auto& d : groups_->sign_due_leaves(account_->identity(), now)) deliveries.push_back(std::move(d));
    // A notice only dropped (stale, expired) changes the book too: saved, or a restart holds it again.
    if (dropped.empty() && deliveries.empty() && groups_->held_leaves() == leaves_before) return {};
    auto ops = groups_->save_ops(kStorageNs);
    for (const auto& g : dropped) ops.push_back(erase_op(group_record_key(g)));
    append(ops, delivery_ops(deliveries));
    return ops;
}

void Client::group_upkeep() {
    std::vector<GroupDelivery> deliveries;
    auto ops = group_upkeep_ops(deliveries);
    if (ops.empty()) return;
    store_.write(std::move(ops), [this] { flush_in_background(); }, [this](const sdk::Error& e) {
        ctx_.log().warn("group upkeep not saved, done again later: {}", e.message);
        load_groups([] {}, [](const sdk::Error&) {});
    });
}

void Client::sync_group_devices(std::vector<GroupDelivery>& rotations) {
    std::set<crypto::VeilId> people;
    for (const auto& g : groups_->groups()) {
        if (const auto* s = groups_->state(g)) {
            for (const auto& m : s->members()) people.insert(m.id);
        }
    }
    people.insert(account_->id());
    for (const auto& who : people) give_group_devices(who, rotations);
}

void Client::give_group_devices(const crypto::VeilId& who, std::vector<GroupDelivery>& rotations) {
    const crypto::DeviceList* list = nullptr;
    if (who == account_->id()) list = &account_->device_list();
    else if (const auto* held = account_->peer_lists().find(who)) list = &held->list;
    if (list == nullptr) return;  // not read yet: the chains held for them stay
    std::vector<crypto::PublicKey> active;
    for (const auto& e : list->entries()) {
        if (!e.revoked()) active.push_back(e.signing_key);
    }
    for (auto& d : groups_->devices_changed(account_->identity(), who, std::move(active), now_ms())) {
        rotations.push_back(std::move(d));
    }
}

std::vector<st::BatchOp> Client::delivery_ops(const std::vector<GroupDelivery>& deliveries,
                                              std::vector<MessageId>* ids) const {
    std::vector<st::BatchOp> ops;
    const auto& self = account_->id();
    for (const auto& d : deliveries) {
        ChatMessage m;
        m.kind = ChatKind::group_control;
        m.sent_at_ms = now_ms();
        auto payload = d.payload.view();
        m.group_control.assign(payload.begin(), payload.end());
        // A message to a member also reaches our other devices (the fan-out): only when the
        // delivery names nobody else do they get one of their own.
        bool others = std::any_of(d.to.begin(), d.to.end(), [&](const crypto::VeilId& id) { return id != self; });
        for (const auto& to : d.to) {
            if (to == self && others) continue;
            randombytes_buf(m.id.data(), m.id.size());
            if (ids) ids->push_back(m.id);
            m.sync_peer = to == self ? std::optional<crypto::VeilId>(self) : std::nullopt;
            ops.push_back(queued_op(to, m));
        }
        sodium_memzero(m.group_control.data(), m.group_control.size());
    }
    return ops;
}

void Client::create_group(std::string name, std::vector<crypto::VeilId> members,
                          std::function<void(crypto::GroupId)> done, Fail fail) {
    crypto::GroupId id{};
    std::vector<GroupDelivery> deliveries;
    try {
        deliveries = groups_->create(account_->identity(), name, members, now_ms(), id);
    } catch (const std::exception& e) {
        return fail({sdk::ErrorCode::bad_input, e.what()});
    }
    auto ops = groups_->save_ops(kStorageNs);
    std::vector<MessageId> queued;
    append(ops, delivery_ops(deliveries, &queued));
    store_.write(std::move(ops), [this, done, id, queued] {
        last_group_queued_ = queued;
        done(id);
    }, [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);  // memory back to what the database holds
    });
}

void Client::change_group(GroupChange change, const crypto::GroupId& group, std::vector<crypto::VeilId> ids,
                          std::function<void()> done, Fail fail) {
    std::vector<GroupDelivery> deliveries;
    try {
        const auto& me = account_->identity();
        if (!groups_->state(group)) throw std::out_of_range("no group has the ID " + crypto::group_id_str(group));
        if (change == GroupChange::add) deliveries = groups_->add(me, group, ids, now_ms());
        else if (change == GroupChange::remove) deliveries = groups_->remove(me, group, ids, now_ms());
        else deliveries = groups_->make_admin(me, group, ids.at(0), now_ms());
    } catch (const std::exception& e) {
        return fail(group_error(e));
    }
    auto ops = groups_->save_ops(kStorageNs);
    std::vector<MessageId> queued;
    append(ops, delivery_ops(deliveries, &queued));
    store_.write(std::move(ops), [this, done, queued] {
        last_group_queued_ = queued;
        done();
    }, [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);
    });
}

void Client::accept_group(const crypto::GroupId& group, std::function<void()> done, Fail fail) {
    if (!groups_->state(group)) {
        return fail({sdk::ErrorCode::not_found, "no group has the ID " + crypto::group_id_str(group)});
    }
    groups_->accept(group);
    store_.write(groups_->save_ops(kStorageNs), std::move(done), [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);
    });
}

void Client::decline_group(const crypto::GroupId& group, std::function<void()> done, Fail fail) {
    try {
        groups_->decline(group);
    } catch (const std::out_of_range&) {
        return fail({sdk::ErrorCode::not_found, "no group has the ID " + crypto::group_id_str(group)});
    } catch (const std::exception& e) {
        return fail({sdk::ErrorCode::refused, std::string("cannot decline: ") + e.what()});
    }
    // The book remembers the decline (a re-sent invitation does not return): saved with the erase.
    auto ops = groups_->save_ops(kStorageNs);
    ops.push_back(erase_op(group_record_key(group)));
    store_.write(std::move(ops), std::move(done), [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);
    });
}

void Client::leave_group(const crypto::GroupId& group, std::function<void()> done, Fail fail) {
    const auto* s = groups_->state(group);
    if (s == nullptr) return fail({sdk::ErrorCode::not_found, "no group has the ID " + crypto::group_id_str(group)});
    const auto& self = account_->id();
    std::vector<crypto::VeilId> admins;
    for (const auto& m : s->members()) {
        if (m.role == crypto::GroupRole::admin && m.id != self) admins.push_back(m.id);
    }
    if (s->is_member(self) && s->members().size() > 1 && admins.empty()) {
        return fail({sdk::ErrorCode::refused,
                     "you are the group's only admin: make another member admin first (veil group admin GROUP ID)"});
    }
    ChatMessage m;
    m.kind = ChatKind::group_leave;
    m.sent_at_ms = now_ms();
    m.group_control = encode_leave({group, s->digest()});  // the state we leave: admins sign only over it
    std::vector<st::BatchOp> ops;
    std::vector<MessageId> queued;
    // A notice to an admin reaches our other devices too (the fan-out); alone, they get their own.
    if (admins.empty() && account_->has_other_devices()) admins.push_back(self);
    for (const auto& to : admins) {
        randombytes_buf(m.id.data(), m.id.size());
        queued.push_back(m.id);
        m.sync_peer = to == self ? std::optional<crypto::VeilId>(self) : std::nullopt;
        ops.push_back(queued_op(to, m));
    }
    groups_->forget(group);
    ops.push_back(erase_op(group_record_key(group)));
    store_.write(std::move(ops), [this, done, queued] {
        last_group_queued_ = queued;
        done();
    }, [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);
    });
}

void Client::take_leave(const crypto::VeilId& from, const wire::Bytes& body, std::vector<st::BatchOp>& ops) {
    const auto notice = decode_leave(body);  // 64 bytes: checked by decode_chat
    const auto* s = groups_->state(notice.group);
    if (s == nullptr) return;
    if (from == account_->id()) {
        groups_->forget(notice.group);
        ops.push_back(erase_op(group_record_key(notice.group)));
        return;
    }
    // Held by the book and signed by the designated admin (the lowest ID) only over exactly the
    // state the leaver held: a lagging admin holds it until it catches up, a stale notice never
    // makes a competing state that would win the fork and undo a later removal; the next admins
    // sign in turn if the designated one never does (GroupBook::sign_due_leaves, in the upkeep
    // that ends the round; docs/groups.md §Leaving).
    groups_->hold_leave(notice.group, from, notice.state, now_ms());
}

void Client::send_group(const crypto::GroupId& group, std::string text, std::function<void(const MessageRecord&)> queued,
                        Fail fail) {
    ChatMessage m;
    try {
        m = make_text(std::move(text), now_ms());
    } catch (const std::invalid_argument& e) {
        return fail({sdk::ErrorCode::bad_input, e.what()});
    }
    if (m.text.empty()) return fail({sdk::ErrorCode::bad_input, "the message is empty"});
    if (!groups_->state(group)) {
        return fail({sdk::ErrorCode::not_found, "no group has the ID " + crypto::group_id_str(group)});
    }
    std::vector<GroupDelivery> deliveries;
    proto::node::StoreRequest store;
    try {
        auto env = groups_->send(group, account_->certificate(), encode(m), crypto::max_envelope_ttl_ms, deliveries);
        store = {env.mailbox, proto::node::kEnvelopeNamespace, env.ttl_ms, env.encode()};
    } catch (const std::exception& e) {
        return fail(group_error(e));
    }
    // The chain (if new), the ratcheted book and the envelope in one batch: a crash resends the
    // same bytes, never a second message under the same key.
    auto ops = groups_->save_ops(kStorageNs);
    std::vector<MessageId> queued_ids{m.id};
    append(ops, delivery_ops(deliveries, &queued_ids));
    ops.push_back(outbox_op(m.id, {store}));
    MessageRecord r;
    r.peer = account_->id();
    r.from = account_->id();
    r.message = m;
    r.delivery = DeliveryState::queued;
    r.read = true;
    r.received_at_ms = now_ms();
    r.group = group;
    ops.push_back(record_op(r));  // kept in the group's conversation, marked sent by the flush
    store_.write(std::move(ops), [this, r, queued, mine = std::move(queued_ids)] {
        last_group_queued_ = mine;
        put_message(r, true);
        queued(r);
        if (resident_) flush_in_background();
    }, [this, fail](const sdk::Error& e) {
        load_groups([fail, e] { fail(e); }, fail);
    });
}

std::vector<st::BatchOp> Client::take_group_controls(std::vector<Opened>& opened) {
    std::vector<GroupDelivery> answers;
    bool any = false;
    std::vector<st::BatchOp> ops;
    const auto held_before = groups_->groups();
    for (const auto& o : opened) {
        const auto kind = o.record.message.kind;
        if (kind != ChatKind::group_control && kind != ChatKind::group_leave) continue;
        const auto& from = o.record.from;
        any = true;
        if (kind == ChatKind::group_leave) {
            try {
                take_leave(from, o.record.message.group_control, ops);
            } catch (const std::exception& e) {
                ctx_.log().warn("a leave notice could not be applied ({})", e.what());
            }
            continue;
        }
        // Device lists are kept only for people we share a group with (strangers' would pile up).
        if (from == account_->id() || shares_group(*groups_, from)) give_group_devices(from, answers);
        auto c = model_.contact(from);
        bool from_contact = from == account_->id() || (c && c->accepted && !c->blocked);
        try {
            for (auto& d : groups_->receive_control(from, o.device, o.record.message.group_control, from_contact)) {
                answers.push_back(std::move(d));
            }
        } catch (const std::exception& e) {
            // A non-admin's change, a stale or forged state: refused, nothing changes.
            ctx_.log().warn("a group control message was refused ({})", e.what());
        }
    }
    std::erase_if(opened, [](const Opened& o) {
        return o.record.message.kind == ChatKind::group_control || o.record.message.kind == ChatKind::group_leave;
    });
    if (!any) return {};
    // A group taken in this round (a request too): its members' lists from now on, so a chain
    // one of them sent before the invitation arrived is checked and taken (docs/groups.md §Devices).
    for (const auto& g : groups_->groups()) {
        if (std::find(held_before.begin(), held_before.end(), g) != held_before.end()) continue;
        if (const auto* s = groups_->state(g)) {
            for (const auto& m : s->members()) give_group_devices(m.id, answers);
        }
    }
    // A new request's first-seen time (and any expiry or owed rotation) goes with the round.
    auto upkeep = group_upkeep_ops(answers);
    if (!upkeep.empty()) {
        append(ops, std::move(upkeep));
        return ops;
    }
    append(ops, groups_->save_ops(kStorageNs));
    append(ops, delivery_ops(answers));
    return ops;
}

void Client::receive_groups(std::vector<MessageRecord> got, std::function<void(std::vector<MessageRecord>)> done) {
    auto boxes = std::make_shared<std::vector<std::pair<crypto::GroupId, crypto::SigningKeyPair>>>();
    for (const auto& g : groups_->groups()) {
        if (groups_->is_request(g)) continue;  // nothing is read before the person accepts it
        for (auto& k : groups_->mailbox_keys(g)) boxes->emplace_back(g, std::move(k));
    }
    read_group_mailboxes(boxes, 0, std::make_shared<std::vector<MessageRecord>>(std::move(got)), std::move(done));
}

// One mailbox at a time, from its cursor on the member read; a mailbox that cannot be read now
// is read in a later round.
void Client::read_group_mailboxes(std::shared_ptr<std::vector<std::pair<crypto::GroupId, crypto::SigningKeyPair>>> boxes,
                                  std::size_t next, std::shared_ptr<std::vector<MessageRecord>> got,
                                  std::function<void(std::vector<MessageRecord>)> done) {
    if (next >= boxes->size()) return done(std::move(*got));
    auto go_on = [this, boxes, next, got, done] { read_group_mailboxes(boxes, next + 1, got, done); };
    const auto group = (*boxes)[next].first;
    auto owner = std::make_shared<const crypto::SigningKeyPair>((*boxes)[next].second.clone());
    auto after = [this, group, mailbox = owner->pub](const proto::PublicKey& node) {
        return groups_->state(group) ? groups_->cursor(group, mailbox, node) : std::nullopt;
    };
    service_.fetch_group_mailbox(owner, after, [this, group, owner, got, go_on](std::vector<proto::node::MessageItem> items,
                                                                              proto::PublicKey node) {
        if (!groups_->state(group)) return go_on();  // left or declined meanwhile
        auto read = read_group_items(*groups_, group, owner->pub, node, items, group_handled_);
        ctx_.log().debug("a group mailbox read: {} items, {} opened", read.items, read.messages.size());
        if (read.tampered > 0) {
            ctx_.log().warn("a service node served {} group items whose bytes do not match their hash", read.tampered);
        }
        std::vector<MessageRecord> opened;
        for (auto& m : read.messages) {
            try {
                auto chat = decode_chat(m.plaintext);
                if (chat.kind != ChatKind::text) throw wire::DecodeError("not a group message kind");
                MessageRecord r;
                r.peer = m.from;
                r.from = m.from;
                r.message = std::move(chat);
                r.received_at_ms = now_ms();
                r.group = group;
                opened.push_back(std::move(r));
            } catch (const std::exception& e) {
                ctx_.log().debug("a group message was dropped ({})", e.what());
            }
        }
        if (group_handled_.size() > kMaxHandledItems) group_handled_.clear();
        if (!read.changed) return go_on();
        // The ratcheted chains and the cursor are saved with the messages kept (one batch), before they are shown.
        auto kept = model_.receive_group(std::move(opened), now_ms());
        auto ops = groups_->save_ops(kStorageNs);
        append(ops, std::move(kept.ops));
        store_.write(std::move(ops), [this, got, go_on, shown = std::move(kept.shown)]() mutable {
            for (auto& r : shown) {
                put_message(r, true);
                got->push_back(std::move(r));
            }
            go_on();
        }, [this, go_on](const sdk::Error& e) {
            ctx_.log().warn("group messages are read again in a later round: {}", e.message);
            group_handled_.clear();  // they were not saved as read
            load_groups(go_on, [go_on](const sdk::Error&) { go_on(); });
        });
    }, [this, go_on](const sdk::Error& e) {
        ctx_.log().warn("a group mailbox could not be read now: {}", e.message);
        go_on();
    });
}

}  // namespace veil::messenger
