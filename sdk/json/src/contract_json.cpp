// JSON shapes of the contract types (see contract_json.hpp).
#include "veil/json/contract_json.hpp"

namespace veil::contract_json {

namespace msg = sdk::messenger;

const char* delivery_name(msg::Delivery d) {
    switch (d) {
        case msg::Delivery::queued: return "queued";
        case msg::Delivery::sent: return "sent";
        case msg::Delivery::failed: return "failed";
        case msg::Delivery::received: return "received";
    }
    return "unknown";
}

json to_json(const msg::Message& m) {
    json j{{"id", m.id},
           {"peer", m.peer},
           {"from", m.from},
           {"outgoing", m.outgoing},
           {"text", m.text},
           {"sent_at_ms", m.sent_at_ms},
           {"received_at_ms", m.received_at_ms},
           {"expires_at_ms", m.expires_at_ms},
           {"delivery", delivery_name(m.delivery)},
           {"read", m.read},
           {"request", m.request},
           {"attachment", nullptr}};
    if (!m.group.empty()) j["group"] = m.group;  // one-to-one messages keep their shape
    if (m.attachment) {
        j["attachment"] = json{{"file_name", m.attachment->file_name},
                               {"mime_type", m.attachment->mime_type},
                               {"size_bytes", m.attachment->size_bytes},
                               {"saved_path", m.attachment->saved_path}};
    }
    return j;
}

json to_json(const msg::Conversation& c) {
    return json{{"peer", c.peer},
                {"name", c.name},
                {"unread", c.unread},
                {"last_at_ms", c.last_at_ms},
                {"last_text", c.last_text},
                {"request", c.request},
                {"blocked", c.blocked},
                {"disappear_after_s", c.disappear_after_s},
                {"group", c.group}};
}

json to_json(const msg::Contact& c) {
    return json{{"id", c.id}, {"name", c.name}, {"accepted", c.accepted}, {"blocked", c.blocked}};
}

json to_json(const msg::Device& d) {
    return json{{"key", d.key},
                {"name", d.name},
                {"this_device", d.this_device},
                {"revoked", d.revoked},
                {"added_at_ms", d.added_at_ms}};
}

json to_json(const msg::Profile& p) { return json{{"id", p.id}, {"device_key", p.device_key}}; }

json to_json(const msg::Group& g) {
    json members = json::array();
    for (const auto& m : g.members) members.push_back(json{{"id", m.id}, {"role", m.admin ? "admin" : "member"}});
    return json{{"id", g.id},           {"name", g.name},       {"admin", g.admin},
                {"request", g.request}, {"version", g.version}, {"members", std::move(members)}};
}

json to_json(const sdk::attachment::TransferProgress& p) {
    return json{{"transfer_id", p.transfer_id},
                {"upload", p.upload},
                {"done_bytes", p.done_bytes},
                {"total_bytes", p.total_bytes}};
}

}  // namespace veil::contract_json
