// Fuzzes the page's WebSocket command parser (frontends/web/src/api.cpp): any bytes give a
// command or a CommandError, never a crash; an error frame for it is always valid JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = veil::web::parse_command(text);
    if (auto* e = std::get_if<veil::web::CommandError>(&r)) {
        auto frame = veil::web::error_frame(e->id, "bad_input", e->message);
        if (nlohmann::json::parse(frame, nullptr, false).is_discarded()) __builtin_trap();
    }
    return 0;
}
