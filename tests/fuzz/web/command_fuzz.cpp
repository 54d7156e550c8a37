// Fuzzes the page's WebSocket command parser (frontends/web/src/api.cpp). Beyond never crashing:
// an id is echoed exactly as the page sent it (in the command and in its error frame), a parsed
// send stays within the limits the page is promised (a 66-character hex Veil ID, bounded text),
// and every frame for it is valid JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api.hpp"

namespace {
void check(bool ok) {
    if (!ok) __builtin_trap();
}

// The id the page sent, read independently of the parser under test.
nlohmann::json sent_id(std::string_view text) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("id")) return nullptr;
    return doc["id"];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = veil::web::parse_command(text);
    const nlohmann::json& id = std::visit([](const auto& v) -> const nlohmann::json& { return v.id; }, r);
    // A readable id is the page's own (the parser only reads a document it fully parsed).
    if (!id.is_null()) check(id == sent_id(text));
    if (auto* e = std::get_if<veil::web::CommandError>(&r)) {
        check(!e->message.empty());
        auto frame = nlohmann::json::parse(veil::web::error_frame(e->id, "bad_input", e->message), nullptr, false);
        check(!frame.is_discarded() && frame["id"] == e->id);
        return 0;
    }
    const auto& parsed = std::get<veil::web::ParsedCommand>(r);
    if (const auto* send = std::get_if<veil::web::SendCommand>(&parsed.command)) {
        check(send->to.size() == 66 && send->to.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos);
        check(send->text.size() <= veil::web::kMaxTextBytes);
        check(!send->text.empty() || !send->upload.empty());
    }
    auto frame = nlohmann::json::parse(veil::web::result_frame(parsed.id, nlohmann::json::object()), nullptr, false);
    check(!frame.is_discarded() && frame["id"] == parsed.id);
    return 0;
}
