// JSON-RPC 2.0 parsing and response building (see jsonrpc.hpp).
#include "jsonrpc.hpp"

namespace veil::rpc {

namespace {

// Deeper JSON is refused while parsing: copying or destroying a very deep value recurses.
constexpr int max_depth = 64;

struct TooDeep final {};

// Parses `line`, refusing nesting deeper than max_depth; discarded when malformed or too deep.
json parse_bounded(std::string_view line) {
    const json::parser_callback_t cb = [](int depth, json::parse_event_t event, json&) {
        const bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
        if (opens && depth >= max_depth) throw TooDeep{};  // `depth` counts the containers already open
        return true;
    };
    try {
        return json::parse(line, cb, /*allow_exceptions=*/false);
    } catch (const TooDeep&) {
        return json(json::value_t::discarded);
    }
}

// Checks one request object (its params are moved out); returns the Call or the error response.
Entry check_request(json& v) {
    const json null_id;
    if (!v.is_object()) return error_response(null_id, {code::invalid_request, "a request must be a JSON object", {}});
    // The id is echoed only when it has an allowed type, so a bad id cannot be reflected back.
    const auto id_it = v.find("id");
    const bool has_id = id_it != v.end();
    const bool id_ok = !has_id || id_it->is_string() || id_it->is_number() || id_it->is_null();
    const json& id = has_id && id_ok ? *id_it : null_id;
    const auto ver = v.find("jsonrpc");
    if (ver == v.end() || !ver->is_string() || ver->get_ref<const std::string&>() != "2.0") {
        return error_response(id, {code::invalid_request, "\"jsonrpc\" must be \"2.0\"", {}});
    }
    if (!id_ok) return error_response(null_id, {code::invalid_request, "\"id\" must be a string, number or null", {}});
    const auto m = v.find("method");
    if (m == v.end() || !m->is_string()) return error_response(id, {code::invalid_request, "\"method\" must be a string", {}});
    const auto p = v.find("params");
    if (p != v.end() && !p->is_object() && !p->is_array()) {
        return error_response(id, {code::invalid_request, "\"params\" must be an object or an array", {}});
    }
    for (const auto& [key, _] : v.items()) {
        if (key != "jsonrpc" && key != "id" && key != "method" && key != "params") {
            return error_response(id, {code::invalid_request, "unknown member \"" + key + "\"", {}});
        }
    }
    return Call{id, !has_id, m->get<std::string>(), p == v.end() ? json() : std::move(*p)};
}

}  // namespace

Parsed parse_line(std::string_view line, std::size_t max_batch) {
    Parsed out;
    json v = parse_bounded(line);
    if (v.is_discarded()) {
        out.entries.emplace_back(error_response(
            json(), {code::parse_error,
                     "parse error: not valid JSON or nested deeper than " + std::to_string(max_depth), {}}));
        return out;
    }
    if (!v.is_array()) {
        out.entries.push_back(check_request(v));
        return out;
    }
    if (v.empty()) {
        out.entries.emplace_back(error_response(json(), {code::invalid_request, "empty batch", {}}));
        return out;
    }
    if (v.size() > max_batch) {
        out.entries.emplace_back(error_response(
            json(), {code::invalid_request, "batch of " + std::to_string(v.size()) + " requests; at most " +
                                                std::to_string(max_batch),
                     {}}));
        return out;
    }
    out.batch = true;
    for (auto& e : v) out.entries.push_back(check_request(e));
    return out;
}

json error_response(const json& id, const RpcError& error) {
    json e{{"code", error.code}, {"message", error.message}};
    if (!error.data.is_null()) e["data"] = error.data;
    return json{{"jsonrpc", "2.0"}, {"error", std::move(e)}, {"id", id}};
}

json result_response(const json& id, json result) {
    return json{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}};
}

json notification(std::string_view method, json params) {
    return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

std::string to_line(const json& value) {
    std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
    s.push_back('\n');
    return s;
}

}  // namespace veil::rpc
