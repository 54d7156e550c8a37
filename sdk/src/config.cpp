#include "veil/sdk/config.hpp"

#include <stdexcept>

#include "config_parse.hpp"

namespace veil::sdk {

std::string_view to_string(ConfigType type) noexcept {
    switch (type) {
        case ConfigType::boolean: return "boolean";
        case ConfigType::integer: return "integer";
        case ConfigType::floating: return "float";
        case ConfigType::string: return "string";
        case ConfigType::string_list: return "array of strings";
    }
    return "invalid";
}

Config::Config(std::string table_name, std::map<std::string, ConfigValue, std::less<>> values)
    : table_(std::move(table_name)), values_(std::move(values)) {}

const ConfigValue& Config::at(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) {
        throw std::logic_error("config: key '" + table_ + "." + std::string(key) + "' was not declared");
    }
    return it->second;
}

template <class T>
static const T& typed(const ConfigValue& v, const std::string& table, std::string_view key) {
    if (const T* p = std::get_if<T>(&v)) return *p;
    throw std::logic_error("config: key '" + table + "." + std::string(key) + "' read with the wrong type");
}

bool Config::get_bool(std::string_view key) const { return typed<bool>(at(key), table_, key); }
std::int64_t Config::get_int(std::string_view key) const { return typed<std::int64_t>(at(key), table_, key); }
double Config::get_double(std::string_view key) const { return typed<double>(at(key), table_, key); }
const std::string& Config::get_string(std::string_view key) const {
    return typed<std::string>(at(key), table_, key);
}
const std::vector<std::string>& Config::get_strings(std::string_view key) const {
    return typed<std::vector<std::string>>(at(key), table_, key);
}
bool Config::has(std::string_view key) const { return values_.find(key) != values_.end(); }

Config Config::defaults(std::string table_name, std::span<const ConfigKeySpec> specs) {
    std::map<std::string, ConfigValue, std::less<>> values;
    for (const auto& spec : specs) {
        if (spec.required) continue;
        auto v = config_detail::parse_default(spec);
        if (!v) throw std::logic_error("config: bad default for '" + table_name + "." + std::string(spec.name) + "': " + v.error().message);
        values.emplace(std::string(spec.name), std::move(v).value());
    }
    return Config(std::move(table_name), std::move(values));
}

}  // namespace veil::sdk
