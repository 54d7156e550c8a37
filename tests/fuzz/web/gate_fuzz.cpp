// Fuzzes the request checks (frontends/web/src/gate.cpp) with header values made of any bytes:
// Host, Origin and Cookie checks, cookie parsing, upload file names and the listen address.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::web;
    static const Gate gate("127.0.0.1", 8080, std::string(64, 'a'), std::string(64, 'b'));
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)gate.host_ok(text);
    (void)gate.origin_ok(text);
    (void)gate.token_ok(text);
    bool cookie = gate.cookie_ok(text);
    auto v = cookie_value(text, "veil_session_8080");
    if (cookie && (!v || *v != std::string(64, 'b'))) __builtin_trap();
    auto name = safe_file_name(text);
    if (name.empty() || name.size() > 100 || name == "." || name == ".." ||
        name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
        __builtin_trap();
    }
    try {
        auto a = parse_listen(text);
        if (a.ip.rfind("127.", 0) != 0) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
