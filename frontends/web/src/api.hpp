// The page's protocol over the WebSocket, as plain functions: JSON commands that map 1:1 to the
// messenger contract (sdk/include/veil/sdk/messenger.hpp), and JSON for its replies and events.
//   page -> server  {"id": 7, "method": "send_message", "params": {"to": "05..", "text": "hi"}}
//   server -> page  {"id": 7, "result": {...}}  or  {"id": 7, "error": {"code": "..", "message": ".."}}
//   server -> page  {"event": "message_added", "data": {...}}
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "veil/json/contract_json.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/sdk/result.hpp"

namespace veil::web {

namespace msg = veil::sdk::messenger;
using contract_json::to_json;

/// SendMessage as the page asks it: a file is named by the id the upload endpoint returned,
/// never by a path (the server resolves it to a file it wrote itself).
struct SendCommand {
    std::string to;
    std::string text;
    std::string upload;  ///< "" = text only
    bool keep_metadata = false;  ///< the person ticked "send with its metadata" for this file
    bool keep_name = false;      ///< the person chose to send the file under its own name
};

/// One parsed page command.
using Command = std::variant<msg::GetProfile, SendCommand, msg::ListConversations, msg::ListMessages,
                             msg::MarkRead, msg::ListContacts, msg::SaveContact, msg::AcceptRequest,
                             msg::SetBlocked, msg::SetDisappearing, msg::ListDevices, msg::CreateGroup,
                             msg::GetGroup>;

/// Limits on what a page may send.
inline constexpr std::size_t kMaxCommandBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 64;  ///< deeper commands are refused while parsing
inline constexpr std::size_t kMaxTextBytes = 32 * 1024;
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxGroupMembers = 100;  ///< people a page may invite at once

/// A command with the page's request id (a number or a short string, echoed back).
struct ParsedCommand {
    nlohmann::json id;
    Command command;
};

/// A command that could not be parsed: the id when one was readable (else null) and why.
struct CommandError {
    nlohmann::json id;
    std::string message;
};

/// Parses one WebSocket text message. Never throws; bad input gives CommandError.
std::variant<ParsedCommand, CommandError> parse_command(std::string_view text);

/// A message as the page sees it: the contract's JSON, except that a saved file's path stays on
/// the server (the page fetches the file by message id) and only `saved` tells it is there.
nlohmann::json page_json(const msg::Message& m);

/// The JSON of a contract reply.
nlohmann::json reply_json(const msg::Profile& r);
nlohmann::json reply_json(const msg::Queued& r);
nlohmann::json reply_json(const msg::ConversationList& r);
nlohmann::json reply_json(const msg::MessageList& r);
nlohmann::json reply_json(const msg::ContactList& r);
nlohmann::json reply_json(const msg::DeviceList& r);
nlohmann::json reply_json(const msg::Done& r);
nlohmann::json reply_json(const msg::Group& r);

/// {"id": id, "result": result}
std::string result_frame(const nlohmann::json& id, nlohmann::json result);
/// {"id": id, "error": {"code": code, "message": message}}
std::string error_frame(const nlohmann::json& id, std::string_view code, std::string_view message);
/// {"event": name, "data": data}
std::string event_frame(std::string_view name, nlohmann::json data);

}  // namespace veil::web
