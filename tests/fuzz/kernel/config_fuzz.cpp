// Config parsing and validation on arbitrary text. Beyond never crashing: every error names where
// it comes from (the file and a line, or the --set assignment), and a table that validates hands
// out every declared key with its declared type.
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

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// A problem report starts with where it comes from: the file and a line, or the --set assignment.
void check_names_the_file(const std::string& problem) {
    bool file_line = problem.starts_with("fuzz.toml:") && problem.size() > 10 && problem[10] >= '0' && problem[10] <= '9';
    check(file_line || problem.starts_with("--set "));
}

void check_table(const ConfigDocument& d, const std::string& name) {
    auto t = d.table(name, kKeys);
    if (!t) return check_names_the_file(t.error().message);
    const Config& c = t.value();
    (void)c.get_string("listen");
    (void)c.get_int("port");
    (void)c.get_double("ratio");
    (void)c.get_bool("on");
    (void)c.get_strings("peers");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = ConfigDocument::parse_text(text, "fuzz.toml");
    if (!doc) return check_names_the_file(doc.error().message), 0;
    auto& d = doc.value();
    for (const auto& s : d.stray_entries()) check_names_the_file(s);
    for (const auto& t : d.tables()) check_table(d, t);
    auto assignment = text.substr(0, std::min<std::size_t>(size, 64));
    if (auto s = d.set(assignment); !s) check(s.error().message.starts_with("--set "));
    check_table(d, "p");
    return 0;
}
