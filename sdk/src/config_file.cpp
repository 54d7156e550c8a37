// The only translation unit that includes toml++ (it is heavy to compile).
#include "veil/sdk/config_file.hpp"

#include <set>

#include <toml++/toml.h>

#include "config_parse.hpp"

namespace veil::sdk {

namespace {

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::string: return "string";
        case toml::node_type::array: return "array";
        case toml::node_type::table: return "table";
        default: return "date/time";
    }
}

// Converts a node to the declared type; an error message if it does not fit.
Result<ConfigValue> convert(const toml::node& n, ConfigType type) {
    auto wrong = [&] {
        return Result<ConfigValue>(ErrorCode::bad_input, "must be " + std::string(to_string(type)) +
                                                              ", found " + type_name(n));
    };
    switch (type) {
        case ConfigType::boolean:
            if (auto v = n.value_exact<bool>()) return ConfigValue(*v);
            return wrong();
        case ConfigType::integer:
            if (auto v = n.value_exact<std::int64_t>()) return ConfigValue(*v);
            return wrong();
        case ConfigType::floating:
            if (n.is_floating_point() || n.is_integer()) return ConfigValue(*n.value<double>());
            return wrong();
        case ConfigType::string:
            if (auto v = n.value_exact<std::string>()) return ConfigValue(*v);
            return wrong();
        case ConfigType::string_list: {
            const auto* arr = n.as_array();
            if (!arr) return wrong();
            std::vector<std::string> out;
            for (const auto& e : *arr) {
                auto s = e.value_exact<std::string>();
                if (!s) return Result<ConfigValue>(ErrorCode::bad_input, "must be an array of strings");
                out.push_back(*s);
            }
            return ConfigValue(std::move(out));
        }
    }
    return Result<ConfigValue>(ErrorCode::internal, "invalid config type");
}

// Parses the text of one TOML value ("8080", "[\"a\"]"); nullopt if it is not TOML.
std::optional<toml::table> parse_value(std::string_view text) {
    try {
        return toml::parse("v = " + std::string(text) + "\n");
    } catch (const toml::parse_error&) {
        return std::nullopt;
    }
}

}  // namespace

namespace config_detail {
Result<ConfigValue> parse_default(const ConfigKeySpec& spec) {
    if (spec.type == ConfigType::string) return ConfigValue(std::string(spec.default_value));
    auto t = parse_value(spec.default_value);
    if (!t) return Result<ConfigValue>(ErrorCode::bad_input, "default is not a TOML value");
    return convert(*t->get("v"), spec.type);
}
}  // namespace config_detail

struct ConfigDocument::Impl {
    toml::table root;
    std::string source;
    std::filesystem::path base_dir;
    std::map<std::string, std::string, std::less<>> overridden;  // "table.key" -> "--set ..."
};

ConfigDocument::ConfigDocument() : impl_(std::make_unique<Impl>()) {}
ConfigDocument::ConfigDocument(ConfigDocument&&) noexcept = default;
ConfigDocument& ConfigDocument::operator=(ConfigDocument&&) noexcept = default;
ConfigDocument::~ConfigDocument() = default;

Result<ConfigDocument> ConfigDocument::parse_text(std::string_view text, std::string source) {
    ConfigDocument doc;
    doc.impl_->source = source;
    try {
        doc.impl_->root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        return Error{ErrorCode::bad_input, source + ":" + std::to_string(e.source().begin.line) +
                                               ": " + std::string(e.description())};
    }
    return doc;
}

Result<ConfigDocument> ConfigDocument::parse_file(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        return Error{ErrorCode::not_found, file.string() + ": no such config file"};
    }
    ConfigDocument doc;
    doc.impl_->source = file.string();
    doc.impl_->base_dir = std::filesystem::absolute(file, ec).parent_path();
    try {
        doc.impl_->root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return Error{ErrorCode::bad_input, file.string() + ":" + std::to_string(e.source().begin.line) +
                                               ": " + std::string(e.description())};
    }
    return doc;
}

Status ConfigDocument::set(std::string_view assignment) {
    const std::string origin = "--set " + std::string(assignment);
    auto eq = assignment.find('=');
    auto dot = assignment.find('.');
    if (eq == std::string_view::npos || dot == std::string_view::npos || dot > eq || dot == 0 || dot + 1 == eq) {
        return Error{ErrorCode::bad_input, origin + ": expected table.key=value"};
    }
    std::string table(assignment.substr(0, dot));
    std::string key(assignment.substr(dot + 1, eq - dot - 1));
    std::string_view value = assignment.substr(eq + 1);
    auto* t = impl_->root.get(table);
    if (t && !t->is_table()) return Error{ErrorCode::bad_input, origin + ": '" + table + "' is not a table"};
    if (!t) t = impl_->root.insert_or_assign(table, toml::table{}).first->second.as_table();
    auto* tbl = t->as_table();
    if (auto parsed = parse_value(value)) {
        tbl->insert_or_assign(key, std::move(*parsed->get("v")));
    } else {
        tbl->insert_or_assign(key, std::string(value));
    }
    impl_->overridden[table + "." + key] = origin;
    return ok_status();
}

std::vector<std::string> ConfigDocument::tables() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : impl_->root) {
        if (v.is_table()) out.emplace_back(k.str());
    }
    return out;
}

std::vector<std::string> ConfigDocument::stray_entries() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : impl_->root) {
        if (!v.is_table()) {
            out.push_back(impl_->source + ":" + std::to_string(v.source().begin.line) + ": '" +
                          std::string(k.str()) + "' must be inside a [table] (kernel or a plugin)");
        }
    }
    return out;
}

std::size_t ConfigDocument::line_of(std::string_view table) const {
    const auto* n = impl_->root.get(table);
    return n ? n->source().begin.line : 0;
}

const std::string& ConfigDocument::source() const { return impl_->source; }
std::filesystem::path ConfigDocument::base_dir() const { return impl_->base_dir; }

Result<Config> ConfigDocument::table(std::string_view name, std::span<const ConfigKeySpec> specs) const {
    std::map<std::string, ConfigValue, std::less<>> values;
    std::string problems;
    auto where = [&](const std::string& full_key, const toml::node* n) {
        auto o = impl_->overridden.find(full_key);
        if (o != impl_->overridden.end()) return o->second;
        return impl_->source + ":" + std::to_string(n ? n->source().begin.line : line_of(name));
    };
    auto add = [&](std::string line) {
        if (!problems.empty()) problems += '\n';
        problems += line;
    };
    const toml::table* tbl = nullptr;
    if (const auto* node = impl_->root.get(name)) tbl = node->as_table();
    if (tbl) {
        for (const auto& [k, v] : *tbl) {
            std::string key(k.str());
            std::string full = std::string(name) + "." + key;
            const ConfigKeySpec* spec = nullptr;
            for (const auto& s : specs) {
                if (s.name == key) spec = &s;
            }
            if (!spec) {
                std::string known;
                for (const auto& s : specs) known += (known.empty() ? "" : ", ") + std::string(s.name);
                add(where(full, &v) + ": unknown key '" + full + "'" +
                    (known.empty() ? " (this table takes no keys)" : " (known keys: " + known + ")"));
                continue;
            }
            auto value = convert(v, spec->type);
            if (!value) {
                add(where(full, &v) + ": key '" + full + "' " + value.error().message);
                continue;
            }
            values.emplace(key, std::move(value).value());
        }
    }
    for (const auto& s : specs) {
        if (values.count(s.name)) continue;
        std::string full = std::string(name) + "." + std::string(s.name);
        if (tbl && tbl->get(s.name)) continue;  // present but invalid: already reported
        if (s.required) {
            add(impl_->source + ":" + std::to_string(line_of(name)) + ": missing required key '" + full + "'");
            continue;
        }
        auto d = config_detail::parse_default(s);
        if (!d) {
            add("default of '" + full + "' is invalid (plugin bug): " + d.error().message);
            continue;
        }
        values.emplace(std::string(s.name), std::move(d).value());
    }
    if (!problems.empty()) return Error{ErrorCode::bad_input, problems};
    return Config(std::string(name), std::move(values));
}

}  // namespace veil::sdk
