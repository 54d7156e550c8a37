#include "conversations.hpp"

#include <cctype>

#include <algorithm>

namespace veil::messenger {
namespace {

namespace st = sdk::storage;
namespace sm = sdk::messenger;

constexpr std::size_t kMaxSummaryTextBytes = 200;

sm::Delivery delivery_view(DeliveryState d) {
    switch (d) {
        case DeliveryState::queued: return sm::Delivery::queued;
        case DeliveryState::sent: return sm::Delivery::sent;
        case DeliveryState::failed: return sm::Delivery::failed;
        case DeliveryState::received: break;
    }
    return sm::Delivery::received;
}

}  // namespace

std::uint64_t expiry_of(std::uint32_t disappear_after_s, std::uint64_t from_ms) {
    return disappear_after_s == 0 ? 0 : from_ms + std::uint64_t{disappear_after_s} * 1000;
}

void Conversations::load(const crypto::VeilId& self, std::map<crypto::VeilId, ContactRecord> contacts,
                         std::map<std::string, MessageRecord> messages) {
    self_ = self;
    contacts_ = std::move(contacts);
    messages_ = std::move(messages);
    last_seq_.clear();
    for (const auto& [key, r] : messages_) {
        // Written here (a synced copy from another own device is `received` and counts its own).
        if (r.from != self_ || r.delivery == DeliveryState::received) continue;
        auto& last = last_seq_[r.peer];
        last = std::max(last, r.message.seq);
    }
}

// ---- contacts ----

std::vector<ContactRecord> Conversations::contacts() const {
    std::vector<ContactRecord> out;
    for (const auto& [id, c] : contacts_) out.push_back(c);
    return out;
}

std::optional<ContactRecord> Conversations::contact(const crypto::VeilId& id) const {
    auto it = contacts_.find(id);
    if (it == contacts_.end()) return std::nullopt;
    return it->second;
}

bool Conversations::is_request(const crypto::VeilId& peer) const {
    auto c = contact(peer);
    return c && !c->accepted;
}

// ---- messages ----

MessageRecord* Conversations::find(const std::string& key) {
    auto it = messages_.find(key);
    return it == messages_.end() ? nullptr : &it->second;
}

const MessageRecord* Conversations::find_by_id(const std::string& id_hex) const {
    // Keys end with the id in lower-case hex (record.hpp): one pass, no second index to keep.
    if (id_hex.size() != 2 * MessageId{}.size()) return nullptr;
    std::string tail = "/" + id_hex;
    for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [key, r] : messages_) {
        if (key.ends_with(tail)) return &r;
    }
    return nullptr;
}

std::vector<MessageRecord> Conversations::pending_downloads(std::uint64_t now_ms) const {
    std::vector<MessageRecord> out;
    for (const auto& [key, r] : messages_) {
        if (r.retry_at_ms != 0 && r.retry_at_ms <= now_ms && r.saved_path.empty()) out.push_back(r);
    }
    return out;
}

std::vector<MessageRecord> Conversations::messages(const crypto::VeilId& peer, std::size_t limit) const {
    return messages_under(conversation_prefix(peer), limit);
}

std::vector<MessageRecord> Conversations::messages(const crypto::GroupId& group, std::size_t limit) const {
    return messages_under(conversation_prefix(group), limit);
}

std::vector<MessageRecord> Conversations::messages_under(const std::string& prefix, std::size_t limit) const {
    std::vector<MessageRecord> out;
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        out.push_back(it->second);
    }
    if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    return out;
}

std::vector<std::string> Conversations::queued_keys() const {
    std::vector<std::string> out;
    for (const auto& [k, r] : messages_) {
        if (r.delivery == DeliveryState::queued) out.push_back(k);
    }
    return out;
}

std::vector<MessageRecord> Conversations::mark_sent(const std::vector<std::string>& keys,
                                                    const std::set<MessageId>& except) {
    std::vector<MessageRecord> out;
    for (const auto& k : keys) {
        auto* r = find(k);
        if (!r || r->delivery != DeliveryState::queued || except.count(r->message.id)) continue;
        r->delivery = DeliveryState::sent;
        r->error.clear();  // a reason it waited no longer applies
        out.push_back(*r);
    }
    return out;
}

std::optional<MessageRecord> Conversations::note_waiting(const MessageId& id, const std::string& why) {
    for (auto& [k, r] : messages_) {
        if (r.message.id != id || r.delivery != DeliveryState::queued || r.error == why) continue;
        r.error = why;
        return r;
    }
    return std::nullopt;
}

std::optional<MessageRecord> Conversations::mark_failed(const crypto::VeilId& to, const MessageId& id,
                                                        const std::string& why) {
    for (auto& [k, r] : messages_) {
        if (r.peer != to || r.message.id != id || r.delivery != DeliveryState::queued) continue;
        r.delivery = DeliveryState::failed;
        r.error = why;
        return r;
    }
    return std::nullopt;
}

std::vector<MessageRecord> Conversations::mark_read(const crypto::VeilId& peer) {
    return mark_read_under(conversation_prefix(peer));
}

std::vector<MessageRecord> Conversations::mark_read(const crypto::GroupId& group) {
    return mark_read_under(conversation_prefix(group));
}

std::vector<MessageRecord> Conversations::mark_read_under(const std::string& prefix) {
    std::vector<MessageRecord> out;
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        if (it->second.read) continue;
        it->second.read = true;
        out.push_back(it->second);
    }
    return out;
}

std::vector<MessageRecord> Conversations::take_waiting_files(const crypto::VeilId& peer) {
    std::vector<MessageRecord> out;
    auto prefix = conversation_prefix(peer);
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        auto& r = it->second;
        if (!r.awaiting_accept) continue;
        r.awaiting_accept = false;  // in memory only: a second call does not fetch it twice
        r.error.clear();
        out.push_back(r);
    }
    return out;
}

Conversations::Expired Conversations::take_expired(std::uint64_t now_ms) {
    Expired out;
    for (auto it = messages_.begin(); it != messages_.end();) {
        if (it->second.expires_at_ms == 0 || it->second.expires_at_ms > now_ms) {
            ++it;
            continue;
        }
        out.ops.push_back({st::BatchOp::Kind::erase, std::string(kStorageNs), it->first, {}});
        if (!it->second.saved_path.empty()) out.files.push_back(it->second.saved_path);
        it = messages_.erase(it);
    }
    return out;
}

std::uint64_t Conversations::next_expiry_ms() const {
    std::uint64_t next = 0;
    for (const auto& [key, m] : messages_)
        if (m.expires_at_ms != 0 && (next == 0 || m.expires_at_ms < next)) next = m.expires_at_ms;
    return next;
}

std::uint64_t Conversations::next_download_retry_ms() const {
    std::uint64_t next = 0;
    for (const auto& [key, m] : messages_) {
        // UINT64_MAX marks a download under way (Client::retry_downloads): its end sets the time.
        if (m.retry_at_ms == 0 || m.retry_at_ms == UINT64_MAX || !m.saved_path.empty()) continue;
        if (next == 0 || m.retry_at_ms < next) next = m.retry_at_ms;
    }
    return next;
}

Conversations::Outgoing Conversations::outgoing(const crypto::VeilId& to, ChatMessage message, std::uint64_t now_ms) const {
    Outgoing out;
    out.contact = contact(to).value_or(ContactRecord{to, "", false, false, 0});
    message.disappear_after_s = out.contact.disappear_after_s;
    auto& r = out.record;
    r.peer = to;
    r.from = self_;
    r.message = std::move(message);
    r.delivery = DeliveryState::queued;
    r.read = true;
    r.received_at_ms = now_ms;
    r.expires_at_ms = expiry_of(r.message.disappear_after_s, now_ms);
    // Writing to someone accepts their request (and makes them known).
    out.accepted_now = !out.contact.accepted;
    out.contact.accepted = true;
    return out;
}

std::uint64_t Conversations::take_seq(const crypto::VeilId& to) { return ++last_seq_[to]; }

// ---- receiving ----

bool Conversations::apply_incoming(MessageRecord& r, std::uint64_t now_ms, Received& out) {
    bool own = r.from == self_;
    if (r.message.kind == ChatKind::contact) {
        if (!own) return false;  // only our own devices may change our contacts
        ContactRecord c{r.peer, r.message.text, (r.message.contact_flags & kContactAccepted) != 0,
                        (r.message.contact_flags & kContactBlocked) != 0, r.message.disappear_after_s};
        contacts_[c.id] = c;
        out.ops.push_back(contact_op(c));
        out.changed.push_back(c.id);
        return false;
    }
    auto it = contacts_.find(r.peer);
    ContactRecord c = it != contacts_.end() ? it->second : ContactRecord{r.peer, "", own, false, 0};
    auto before = c;
    if (!own && c.blocked) return false;  // dropped on arrival; deleted from the swarm with the others
    if (own) c.accepted = true;           // we wrote to them from another device
    c.disappear_after_s = r.message.disappear_after_s;  // the sender's setting is the conversation's
    if (it == contacts_.end() || !(c == before)) {
        contacts_[c.id] = c;
        out.ops.push_back(contact_op(c));
        out.changed.push_back(c.id);
    }
    r.delivery = own ? DeliveryState::sent : DeliveryState::received;
    r.read = own;
    r.received_at_ms = now_ms;
    r.expires_at_ms = expiry_of(r.message.disappear_after_s, now_ms);
    return r.message.kind != ChatKind::timer;
}

Conversations::Received Conversations::receive(std::vector<MessageRecord> opened, std::uint64_t now_ms) {
    Received out;
    std::vector<std::string> seen_keys;
    for (auto& r : opened) {
        bool stored = r.message.kind == ChatKind::text || r.message.kind == ChatKind::attachment;
        // The key has no sender: a peer reusing one of our ids and times would overwrite our record.
        if (stored && duplicate(r, seen_keys, out)) continue;
        if (!apply_incoming(r, now_ms, out)) continue;
        // A request's files wait for acceptance (no disk filling, no online tracking by strangers).
        if (r.message.kind == ChatKind::attachment && is_request(r.peer)) {
            r.awaiting_accept = true;
            r.error = std::string(kNotFetched);
        }
        out.ops.push_back(record_op(r));
        out.shown.push_back(std::move(r));
    }
    // In the order they were written (the swarm returns them in arrival order).
    std::stable_sort(out.shown.begin(), out.shown.end(), [](const MessageRecord& a, const MessageRecord& b) {
        return a.message.sent_at_ms < b.message.sent_at_ms;
    });
    return out;
}

bool Conversations::duplicate(const MessageRecord& r, std::vector<std::string>& seen, Received& out) {
    auto key = record_key(r);
    if (find(key) || std::find(seen.begin(), seen.end(), key) != seen.end()) {
        ++out.duplicates;
        return true;
    }
    seen.push_back(std::move(key));
    return false;
}

Conversations::Received Conversations::receive_group(std::vector<MessageRecord> opened, std::uint64_t now_ms) {
    Received out;
    std::vector<std::string> seen_keys;
    for (auto& r : opened) {
        if (!r.group || r.message.kind != ChatKind::text) continue;
        bool own = r.from == self_;
        auto c = contact(r.from);
        if (!own && c && c->blocked) continue;  // blocking holds in groups too
        if (duplicate(r, seen_keys, out)) continue;
        r.peer = r.from;
        r.delivery = own ? DeliveryState::sent : DeliveryState::received;
        r.read = own;
        r.received_at_ms = now_ms;
        out.ops.push_back(record_op(r));
        out.shown.push_back(std::move(r));
    }
    std::stable_sort(out.shown.begin(), out.shown.end(), [](const MessageRecord& a, const MessageRecord& b) {
        return a.message.sent_at_ms < b.message.sent_at_ms;
    });
    return out;
}

// ---- views ----

sm::Message Conversations::view(const MessageRecord& r) const {
    sm::Message m;
    m.id = wire::to_hex(r.message.id);
    m.peer = r.peer.str();
    m.from = r.from.str();
    m.outgoing = r.from == self_;
    m.text = r.message.text;
    m.sent_at_ms = r.message.sent_at_ms;
    m.received_at_ms = r.received_at_ms;
    m.expires_at_ms = r.expires_at_ms;
    m.delivery = delivery_view(r.delivery);
    m.read = r.read;
    m.request = !m.outgoing && !r.group && is_request(r.peer);
    if (r.group) {
        m.group = crypto::group_id_str(*r.group);
        m.peer = m.group;
    }
    if (r.message.attachment) {
        const auto& a = *r.message.attachment;
        m.attachment = sm::AttachmentInfo{a.file_name, a.mime_type, a.size_bytes, r.saved_path, r.retry_at_ms != 0};
    }
    return m;
}

sm::Conversation Conversations::conversation(const crypto::VeilId& peer) const {
    sm::Conversation v;
    v.peer = peer.str();
    if (auto c = contact(peer)) {
        v.name = c->name;
        v.request = !c->accepted;
        v.blocked = c->blocked;
        v.disappear_after_s = c->disappear_after_s;
    }
    summarise(conversation_prefix(peer), v);
    return v;
}

sm::Conversation Conversations::conversation(const crypto::GroupId& group) const {
    sm::Conversation v;
    v.peer = crypto::group_id_str(group);
    v.group = true;
    summarise(conversation_prefix(group), v);
    return v;
}

void Conversations::summarise(const std::string& prefix, sm::Conversation& v) const {
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        const auto& r = it->second;
        if (!r.read) ++v.unread;
        if (r.message.sent_at_ms >= v.last_at_ms) {
            v.last_at_ms = r.message.sent_at_ms;
            const auto& text = r.message.text.empty() && r.message.attachment ? r.message.attachment->file_name : r.message.text;
            v.last_text = utf8_prefix(text, kMaxSummaryTextBytes);  // list replies stay small
        }
    }
}

std::vector<sm::Conversation> Conversations::conversations() const {
    std::vector<crypto::VeilId> peers;
    for (const auto& [id, c] : contacts_) peers.push_back(id);
    for (const auto& [k, r] : messages_) {
        if (r.group) continue;  // a group's conversation is the group's (the caller lists groups)
        if (peers.empty() || !(peers.back() == r.peer)) {
            if (std::find(peers.begin(), peers.end(), r.peer) == peers.end()) peers.push_back(r.peer);
        }
    }
    std::vector<sm::Conversation> out;
    for (const auto& p : peers) out.push_back(conversation(p));
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last_at_ms > b.last_at_ms; });
    return out;
}

}  // namespace veil::messenger
