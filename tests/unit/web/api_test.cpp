// The page protocol: commands parsed to the messenger contract, replies and events as JSON.
#include <catch2/catch.hpp>

#include "api.hpp"

using namespace veil::web;
using nlohmann::json;

namespace {
const std::string kId = "05" + std::string(64, 'a');

template <class T>
T parse_ok(const std::string& text) {
    auto r = parse_command(text);
    auto* p = std::get_if<ParsedCommand>(&r);
    INFO(text);
    REQUIRE(p != nullptr);
    auto* c = std::get_if<T>(&p->command);
    REQUIRE(c != nullptr);
    return *c;
}

std::string parse_error(const std::string& text) {
    auto r = parse_command(text);
    auto* e = std::get_if<CommandError>(&r);
    INFO(text);
    REQUIRE(e != nullptr);
    return e->message;
}
}  // namespace

TEST_CASE("web - commands map one to one to the messenger contract", "[web]") {
    parse_ok<msg::GetProfile>(R"({"id":1,"method":"get_profile"})");
    auto s = parse_ok<SendCommand>(R"({"id":2,"method":"send_message","params":{"to":")" + kId + R"(","text":"hi"}})");
    CHECK(s.to == kId);
    CHECK(s.text == "hi");
    CHECK(s.upload.empty());
    auto f = parse_ok<SendCommand>(R"({"method":"send_message","params":{"to":")" + kId + R"(","upload":"abc"}})");
    CHECK(f.upload == "abc");
    CHECK_FALSE(f.keep_metadata);
    auto k = parse_ok<SendCommand>(R"({"method":"send_message","params":{"to":")" + kId + R"(","upload":"abc","keep_metadata":true}})");
    CHECK(k.keep_metadata);
    CHECK_FALSE(k.keep_name);  // the upload's name travels only on request
    auto n = parse_ok<SendCommand>(R"({"method":"send_message","params":{"to":")" + kId + R"(","upload":"abc","keep_name":true}})");
    CHECK(n.keep_name);
    parse_ok<msg::ListConversations>(R"({"method":"list_conversations"})");
    auto lm = parse_ok<msg::ListMessages>(R"({"method":"list_messages","params":{"peer":")" + kId + R"(","limit":5}})");
    CHECK(lm.limit == 5);
    CHECK(parse_ok<msg::ListMessages>(R"({"method":"list_messages","params":{"peer":")" + kId + R"("}})").limit == 200);
    CHECK(parse_ok<msg::MarkRead>(R"({"method":"mark_read","params":{"peer":")" + kId + R"("}})").peer == kId);
    parse_ok<msg::ListContacts>(R"({"method":"list_contacts"})");
    auto sc = parse_ok<msg::SaveContact>(R"({"method":"save_contact","params":{"id":")" + kId + R"(","name":"Bob"}})");
    CHECK(sc.name == "Bob");
    parse_ok<msg::AcceptRequest>(R"({"method":"accept_request","params":{"id":")" + kId + R"("}})");
    CHECK_FALSE(parse_ok<msg::SetBlocked>(R"({"method":"set_blocked","params":{"id":")" + kId + R"(","blocked":false}})").blocked);
    CHECK(parse_ok<msg::SetDisappearing>(R"({"method":"set_disappearing","params":{"peer":")" + kId + R"(","seconds":3600}})").seconds == 3600);
    parse_ok<msg::ListDevices>(R"({"method":"list_devices"})");
}

TEST_CASE("web - bad commands get a clear error and keep their id", "[web]") {
    CHECK(parse_error("not json") == "not JSON");
    CHECK(parse_error("[1]") == "a command must be a JSON object");
    CHECK(parse_error(R"({"id":3})") == "missing 'method'");
    CHECK(parse_error(R"({"id":3,"method":"format_disk"})") == "unknown method 'format_disk'");
    CHECK(parse_error(R"({"method":"mark_read","params":{"peer":"05ab"}})").find("66-character") != std::string::npos);
    CHECK(parse_error(R"({"method":"mark_read","params":{"peer":")" + std::string(66, 'z') + R"("}})").find("hexadecimal") != std::string::npos);
    CHECK(parse_error(R"({"method":"send_message","params":{"to":")" + kId + R"("}})") == "an empty message");
    CHECK(parse_error(R"({"method":"send_message","params":{"to":")" + kId + R"(","text":"x","keep_metadata":true}})") ==
          "keep_metadata needs a file");
    CHECK(parse_error(R"({"method":"send_message","params":{"to":")" + kId + R"(","text":"x","keep_name":true}})") ==
          "keep_name needs a file");
    CHECK(parse_error(R"({"method":"send_message","params":{"to":")" + kId + R"(","text":5}})").find("must be a string") != std::string::npos);
    CHECK(parse_error(R"({"method":"set_disappearing","params":{"peer":")" + kId + R"(","seconds":-1}})").find("non-negative") != std::string::npos);
    CHECK(parse_error(R"({"method":"set_disappearing","params":{"peer":")" + kId + R"(","seconds":99999999}})").find("too large") != std::string::npos);
    CHECK(parse_error(R"({"method":"list_contacts","params":[]})") == "'params' must be an object");
    CHECK(parse_error(R"({"id":{"x":1},"method":"list_contacts"})").find("'id'") != std::string::npos);
    CHECK(parse_error(std::string(kMaxCommandBytes + 1, ' ')) == "command too large");
    auto r = parse_command(R"({"id":"q7","method":"nope"})");
    CHECK(std::get<CommandError>(r).id == json("q7"));
}

TEST_CASE("web - messages become JSON without their saved path", "[web]") {
    msg::Message m;
    m.id = std::string(32, 'c');
    m.peer = kId;
    m.from = kId;
    m.text = "caf\xc3\xa9 \xff";  // a peer may send invalid UTF-8: it must not break the frame
    m.delivery = msg::Delivery::queued;
    m.attachment = msg::AttachmentInfo{"cat.jpg", "image/jpeg", 1234, "/home/x/attachments/cat.jpg"};
    auto frame = event_frame("message_added", page_json(m));
    auto j = json::parse(frame);
    CHECK(j["event"] == "message_added");
    CHECK(j["data"]["delivery"] == "queued");
    CHECK(j["data"]["attachment"]["saved"] == true);
    CHECK(j["data"]["attachment"]["file_name"] == "cat.jpg");
    CHECK(frame.find("/home/x") == std::string::npos);
    CHECK(json::parse(result_frame(7, reply_json(msg::Done{})))["result"] == json::object());
    auto e = json::parse(error_frame(7, "timeout", "slow"));
    CHECK(e["error"]["code"] == "timeout");
    CHECK(e["id"] == 7);
}

TEST_CASE("web - a command nested deeper than 64 is refused while parsing; 64 levels parse", "[web]") {
    const auto nested = [](std::size_t levels) {  // the command object is one level, params one more
        return R"({"id":1,"method":"list_contacts","params":{"x":)" + std::string(levels - 2, '[') +
               std::string(levels - 2, ']') + "}}";
    };
    parse_ok<veil::sdk::messenger::ListContacts>(nested(64));
    CHECK(parse_error(nested(65)) == "nested deeper than 64");
    CHECK(parse_error(nested(30000)) == "nested deeper than 64");  // fits in kMaxCommandBytes
    CHECK(parse_error(nested(500000)) == "command too large");
}

TEST_CASE("web - group commands: create with members, get one; bad ones refused", "[web]") {
    const std::string group = "03" + std::string(64, 'b');
    auto c = parse_ok<msg::CreateGroup>(R"({"method":"create_group","params":{"name":"family","members":[")" + kId + R"("]}})");
    CHECK(c.name == "family");
    CHECK(c.members == std::vector<std::string>{kId});
    CHECK(parse_ok<msg::CreateGroup>(R"({"method":"create_group","params":{"name":"me only"}})").members.empty());
    CHECK(parse_ok<msg::GetGroup>(R"({"method":"get_group","params":{"group":")" + group + R"("}})").group == group);
    // A group ID is a conversation like a person's: the same commands carry it.
    CHECK(parse_ok<SendCommand>(R"({"method":"send_message","params":{"to":")" + group + R"(","text":"hi"}})").to == group);
    CHECK(parse_error(R"({"method":"create_group","params":{"name":""}})") == "a group needs a name");
    CHECK(parse_error(R"({"method":"create_group","params":{"name":"x","members":"05"}})").find("array") != std::string::npos);
    CHECK(parse_error(R"({"method":"create_group","params":{"name":"x","members":["bob"]}})").find("66-character") !=
          std::string::npos);
    std::string many = R"({"method":"create_group","params":{"name":"x","members":[)";
    for (std::size_t i = 0; i <= kMaxGroupMembers; ++i) many += (i ? ",\"" : "\"") + kId + "\"";
    CHECK(parse_error(many + "]}}").find("too many") != std::string::npos);
    msg::Group g{group, "family", true, false, 2, {{kId, true}}};
    auto j = reply_json(g);
    CHECK(j["members"][0]["role"] == "admin");
    CHECK(j["admin"] == true);
}
