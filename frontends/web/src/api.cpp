// JSON commands, replies and events of the page (see api.hpp).
#include "api.hpp"

#include <optional>

namespace veil::web {

using nlohmann::json;

namespace {

// Reads a required string member, bounded; throws std::invalid_argument naming it.
std::string get_string(const json& params, const char* key, std::size_t max_bytes, bool required = true) {
    auto it = params.find(key);
    if (it == params.end()) {
        if (required) throw std::invalid_argument(std::string("missing parameter '") + key + "'");
        return {};
    }
    if (!it->is_string()) throw std::invalid_argument(std::string("parameter '") + key + "' must be a string");
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes) throw std::invalid_argument(std::string("parameter '") + key + "' is too long");
    return s;
}

// A Veil ID as the contract expects it: checked for shape only (the messenger decides the rest).
std::string get_id(const json& params, const char* key) {
    auto s = get_string(params, key, 66);
    if (s.size() != 66) throw std::invalid_argument(std::string("parameter '") + key + "' must be a 66-character Veil ID");
    for (char c : s) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) throw std::invalid_argument(std::string("parameter '") + key + "' must be hexadecimal");
    }
    return s;
}

// A list of Veil IDs (possibly empty), at most `max`.
std::vector<std::string> get_ids(const json& params, const char* key, std::size_t max) {
    auto it = params.find(key);
    if (it == params.end()) return {};
    if (!it->is_array()) throw std::invalid_argument(std::string("parameter '") + key + "' must be an array of Veil IDs");
    if (it->size() > max) throw std::invalid_argument(std::string("parameter '") + key + "' has too many IDs");
    std::vector<std::string> out;
    for (const auto& item : *it) out.push_back(get_id(json{{key, item}}, key));
    return out;
}

std::uint32_t get_u32(const json& params, const char* key, std::uint32_t fallback, std::uint32_t max) {
    auto it = params.find(key);
    if (it == params.end()) return fallback;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
        throw std::invalid_argument(std::string("parameter '") + key + "' must be a non-negative integer");
    }
    auto v = it->get<std::uint64_t>();
    if (v > max) throw std::invalid_argument(std::string("parameter '") + key + "' is too large");
    return static_cast<std::uint32_t>(v);
}

bool get_bool(const json& params, const char* key, bool fallback) {
    auto it = params.find(key);
    if (it == params.end()) return fallback;
    if (!it->is_boolean()) throw std::invalid_argument(std::string("parameter '") + key + "' must be true or false");
    return it->get<bool>();
}

Command make_command(const std::string& method, const json& p) {
    if (method == "get_profile") return msg::GetProfile{};
    if (method == "send_message") {
        SendCommand c{get_id(p, "to"), get_string(p, "text", kMaxTextBytes, false),
                      get_string(p, "upload", 64, false), get_bool(p, "keep_metadata", false), get_bool(p, "keep_name", false)};
        if (c.text.empty() && c.upload.empty()) throw std::invalid_argument("an empty message");
        if (c.keep_metadata && c.upload.empty()) throw std::invalid_argument("keep_metadata needs a file");
        if (c.keep_name && c.upload.empty()) throw std::invalid_argument("keep_name needs a file");
        return c;
    }
    if (method == "list_conversations") return msg::ListConversations{};
    if (method == "list_messages") {
        msg::ListMessages m;
        m.peer = get_id(p, "peer");
        m.limit = get_u32(p, "limit", 200, 1000);
        return m;
    }
    if (method == "mark_read") return msg::MarkRead{get_id(p, "peer")};
    if (method == "list_contacts") return msg::ListContacts{};
    if (method == "save_contact") return msg::SaveContact{get_id(p, "id"), get_string(p, "name", kMaxNameBytes)};
    if (method == "accept_request") return msg::AcceptRequest{get_id(p, "id")};
    if (method == "set_blocked") return msg::SetBlocked{get_id(p, "id"), get_bool(p, "blocked", true)};
    if (method == "set_disappearing") {
        return msg::SetDisappearing{get_id(p, "peer"), get_u32(p, "seconds", 0, 14u * 24 * 3600)};
    }
    if (method == "list_devices") return msg::ListDevices{};
    if (method == "create_group") {
        msg::CreateGroup c{get_string(p, "name", kMaxNameBytes), get_ids(p, "members", kMaxGroupMembers)};
        if (c.name.empty()) throw std::invalid_argument("a group needs a name");
        return c;
    }
    if (method == "get_group") return msg::GetGroup{get_id(p, "group")};
    throw std::invalid_argument("unknown method '" + method.substr(0, 40) + "'");
}

struct TooDeep final {};

// Parses `text`, refusing nesting deeper than kMaxJsonDepth: copying or destroying a very deep
// value recurses and could overflow the stack. Discarded when malformed or too deep.
json parse_bounded(std::string_view text, bool& too_deep) {
    const json::parser_callback_t cb = [](int depth, json::parse_event_t event, json&) {
        const bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
        if (opens && depth >= kMaxJsonDepth) throw TooDeep{};  // `depth` counts the containers already open
        return true;
    };
    try {
        return json::parse(text.begin(), text.end(), cb, false);
    } catch (const TooDeep&) {
        too_deep = true;
        return json(json::value_t::discarded);
    }
}

}  // namespace

std::variant<ParsedCommand, CommandError> parse_command(std::string_view text) {
    if (text.size() > kMaxCommandBytes) return CommandError{nullptr, "command too large"};
    bool too_deep = false;
    json doc = parse_bounded(text, too_deep);
    if (too_deep) return CommandError{nullptr, "nested deeper than " + std::to_string(kMaxJsonDepth)};
    if (doc.is_discarded()) return CommandError{nullptr, "not JSON"};
    if (!doc.is_object()) return CommandError{nullptr, "a command must be a JSON object"};
    json id = nullptr;
    if (auto it = doc.find("id"); it != doc.end()) {
        bool ok_id = it->is_number_integer() || (it->is_string() && it->get_ref<const std::string&>().size() <= 64);
        if (!ok_id) return CommandError{nullptr, "'id' must be an integer or a short string"};
        id = *it;
    }
    auto m = doc.find("method");
    if (m == doc.end() || !m->is_string()) return CommandError{id, "missing 'method'"};
    json params = json::object();
    if (auto it = doc.find("params"); it != doc.end()) {
        if (!it->is_object()) return CommandError{id, "'params' must be an object"};
        params = std::move(*it);
    }
    try {
        return ParsedCommand{id, make_command(m->get<std::string>(), params)};
    } catch (const std::exception& e) {
        return CommandError{id, e.what()};
    }
}

// dump() must not throw on texts with invalid UTF-8 from a peer: replace such bytes.
static std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json page_json(const msg::Message& m) {
    json j = to_json(m);
    if (m.attachment) {
        j["attachment"].erase("saved_path");
        j["attachment"]["saved"] = !m.attachment->saved_path.empty();
    }
    return j;
}

json reply_json(const msg::Profile& r) { return to_json(r); }
json reply_json(const msg::Queued& r) {
    json j{{"message", page_json(r.message)}};
    if (!r.notice.empty()) j["notice"] = r.notice;
    return j;
}
json reply_json(const msg::ConversationList& r) {
    json a = json::array();
    for (const auto& c : r.conversations) a.push_back(to_json(c));
    return json{{"conversations", std::move(a)}};
}
json reply_json(const msg::MessageList& r) {
    json a = json::array();
    for (const auto& m : r.messages) a.push_back(page_json(m));
    return json{{"messages", std::move(a)}};
}
json reply_json(const msg::ContactList& r) {
    json a = json::array();
    for (const auto& c : r.contacts) a.push_back(to_json(c));
    return json{{"contacts", std::move(a)}};
}
json reply_json(const msg::DeviceList& r) {
    json a = json::array();
    for (const auto& d : r.devices) a.push_back(to_json(d));
    return json{{"devices", std::move(a)}};
}
json reply_json(const msg::Done&) { return json::object(); }
json reply_json(const msg::Group& r) { return to_json(r); }

std::string result_frame(const json& id, json result) {
    return dump(json{{"id", id}, {"result", std::move(result)}});
}

std::string error_frame(const json& id, std::string_view code, std::string_view message) {
    return dump(json{{"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

std::string event_frame(std::string_view name, json data) {
    return dump(json{{"event", name}, {"data", std::move(data)}});
}

}  // namespace veil::web
