// The fake messenger of the test harness: the messenger contract served from memory.
#include <algorithm>
#include <cstdio>

#include "veil/sdk/testing.hpp"

namespace veil::sdk::testing {

namespace m = messenger;

namespace {
bool is_veil_id(const std::string& id) {
    return id.size() == 66 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}
}  // namespace

FakeMessenger::FakeMessenger(Bus& bus) : bus_(bus) {
    served_.push_back(bus_.serve<m::GetProfile>([](const m::GetProfile&, Responder<m::Profile> r) {
        r.reply({std::string(kOwnId), std::string(64, 'b')});
    }));
    served_.push_back(bus_.serve<m::SendMessage>([this](const m::SendMessage& s, Responder<m::Queued> r) {
        sent_.push_back(s);
        // The messenger's own checks, so a bot meets the same refusals as in a real run.
        if (!is_veil_id(s.to)) return r.fail(ErrorCode::bad_input, "not a Veil ID: '" + s.to + "'");
        if (s.text.empty() && s.file_path.empty()) return r.fail(ErrorCode::bad_input, "the message is empty");
        if (s.text.size() > m::kMaxTextBytes) return r.fail(ErrorCode::bad_input, "the message is longer than 16 KiB");
        contact(s.to).accepted = true;  // answering a stranger accepts the request
        auto msg = make(s.to, std::string(kOwnId), s.text);
        msg.outgoing = true;
        msg.read = true;
        msg.delivery = m::Delivery::queued;
        bus_.publish(m::MessageAdded{msg});  // the real messenger announces own messages too
        r.reply({msg});
    }));
    served_.push_back(bus_.serve<m::ListContacts>([this](const m::ListContacts&, Responder<m::ContactList> r) {
        r.reply({contacts_});
    }));
    served_.push_back(bus_.serve<m::SaveContact>([this](const m::SaveContact& s, Responder<m::Done> r) {
        auto& c = contact(s.id);
        c.name = s.name;
        c.accepted = true;
        r.reply({});
    }));
    served_.push_back(bus_.serve<m::AcceptRequest>([this](const m::AcceptRequest& a, Responder<m::Done> r) {
        contact(a.id).accepted = true;
        r.reply({});
    }));
    served_.push_back(bus_.serve<m::SetBlocked>([this](const m::SetBlocked& b, Responder<m::Done> r) {
        contact(b.id).blocked = b.blocked;
        r.reply({});
    }));
    served_.push_back(bus_.serve<m::MarkRead>([](const m::MarkRead&, Responder<m::Done> r) { r.reply({}); }));
}

m::Contact& FakeMessenger::contact(const std::string& id) {
    auto it = std::find_if(contacts_.begin(), contacts_.end(), [&](const m::Contact& c) { return c.id == id; });
    if (it != contacts_.end()) return *it;
    contacts_.push_back({id, "", true, false});
    return contacts_.back();
}

m::Message FakeMessenger::make(const std::string& peer, const std::string& from, const std::string& text) {
    char id[33];
    std::snprintf(id, sizeof id, "%032llx", static_cast<unsigned long long>(next_id_++));
    m::Message msg;
    msg.id = id;
    msg.peer = peer;
    msg.from = from;
    msg.text = text;
    msg.sent_at_ms = msg.received_at_ms = next_id_;
    return msg;
}

m::Message FakeMessenger::receive(const std::string& from, const std::string& text) {
    bool known = std::any_of(contacts_.begin(), contacts_.end(), [&](const m::Contact& c) { return c.id == from; });
    if (!known) contacts_.push_back({from, "", false, false});  // a stranger: a message request
    const auto& c = contact(from);
    auto msg = make(from, from, text);
    msg.request = !c.accepted;
    if (!c.blocked) bus_.publish(m::MessageAdded{msg});  // a blocked sender's messages are dropped
    return msg;
}

}  // namespace veil::sdk::testing
