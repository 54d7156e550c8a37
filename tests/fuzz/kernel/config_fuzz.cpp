// Config parsing and validation on arbitrary text: every outcome is a value or an error
// message, never a crash.
#include <string_view>

#include "veil/sdk/config_file.hpp"

using namespace veil::sdk;

namespace {
constexpr ConfigKeySpec kKeys[] = {
    {"listen", ConfigType::string, "", "address"},
    {"port", ConfigType::integer, "7000", "port"},
    {"ratio", ConfigType::floating, "0.5", "ratio"},
    {"on", ConfigType::boolean, "false", "switch"},
    {"peers", ConfigType::string_list, "[]", "peers"},
};
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = ConfigDocument::parse_text(text, "fuzz.toml");
    if (!doc.ok()) return 0;
    auto& d = doc.value();
    (void)d.stray_entries();
    for (const auto& t : d.tables()) (void)d.table(t, kKeys);
    (void)d.set(text.substr(0, std::min<std::size_t>(size, 64)));
    (void)d.table("p", kKeys);
    return 0;
}
