#pragma once
// JSON-RPC 2.0 message shapes (https://www.jsonrpc.org/specification): parsing one framed line
// into calls, and building responses, error objects and notifications. No I/O, no bus.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace veil::rpc {

using json = nlohmann::json;

/// Standard error codes of the specification.
namespace code {
inline constexpr int parse_error = -32700;       ///< the line is not JSON
inline constexpr int invalid_request = -32600;   ///< JSON, but not a request object
inline constexpr int method_not_found = -32601;  ///< no such method
inline constexpr int invalid_params = -32602;    ///< wrong, missing or extra params
inline constexpr int internal_error = -32603;    ///< a bug or a reply that could not be encoded
/// Application errors: -32000 minus the bus ErrorCode value (-32001 timeout ... -32013).
inline constexpr int application_base = -32000;
inline constexpr int server_busy = -32050;       ///< a connection or batch limit was hit
}  // namespace code

/// A JSON-RPC error: code, message, optional data.
struct RpcError {
    int code = code::internal_error;
    std::string message;
    json data;  ///< null when absent
};

/// One well-formed request or notification.
struct Call {
    json id;             ///< string, number or null; meaningless for notifications
    bool notification;   ///< no "id" member: no answer is sent
    std::string method;
    json params;         ///< object, array or null (absent)
};

/// One element of what a line held: a call to run, or an error to answer at once.
using Entry = std::variant<Call, json>;

/// What one line held.
struct Parsed {
    bool batch = false;          ///< the line was an array (answers go back as one array)
    std::vector<Entry> entries;  ///< in line order; a lone parse error is one json entry
};

/// Parses one line. Never throws: malformed input becomes error responses in `entries`.
/// Batches longer than `max_batch` are refused as a whole with one error.
Parsed parse_line(std::string_view line, std::size_t max_batch);

/// {"jsonrpc":"2.0","error":{...},"id":id}
json error_response(const json& id, const RpcError& error);
/// {"jsonrpc":"2.0","result":result,"id":id}
json result_response(const json& id, json result);
/// {"jsonrpc":"2.0","method":method,"params":params}
json notification(std::string_view method, json params);

/// Serialises a value as one line ("\n" appended). Invalid UTF-8 in strings is replaced
/// (U+FFFD) rather than throwing, so a response can always be written.
std::string to_line(const json& value);

}  // namespace veil::rpc
