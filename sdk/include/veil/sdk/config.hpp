#pragma once
/// Typed, validated configuration tables.
/// Each plugin declares its keys (name, type, default, doc) in its descriptor; the kernel parses
/// the TOML file, rejects unknown keys and wrong types (naming file, line and key), applies
/// `--set plugin.key=value` overrides and defaults, and hands the plugin a Config that holds
/// exactly its declared keys. A Config is an immutable value: read it from any thread.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// The TOML type a configuration key must have. Zero is never valid.
enum class ConfigType : std::uint8_t {
    boolean = 1,  ///< true / false
    integer,      ///< 64-bit signed integer
    floating,     ///< double (an integer literal is accepted too)
    string,       ///< UTF-8 string
    string_list,  ///< array of strings
};

/// Stable name of a type ("boolean", "integer", ...), used in error messages and docs.
VEIL_SDK_API std::string_view to_string(ConfigType type) noexcept;

/// Declaration of one key of a plugin's table, written as a constant in the plugin source.
/// `default_value` is TOML value syntax (`8080`, `true`, `["a", "b"]`), except for
/// ConfigType::string where it is the raw text. A key with `required = true` has no default.
struct ConfigKeySpec {
    std::string_view name;           ///< key inside the plugin's table, snake_case with units
    ConfigType type;                 ///< expected TOML type
    std::string_view default_value;  ///< see above; ignored when required
    std::string_view doc;            ///< one line shown by `veil plugins --keys` and docs
    bool required = false;           ///< the file (or --set) must give this key
};

/// One validated value.
using ConfigValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

/// The validated table handed to one plugin: every declared key is present with its type.
/// Reading an undeclared key or with the wrong getter is a programming error and throws
/// std::logic_error (it cannot be caused by a user's file).
class VEIL_SDK_API Config final {
public:
    Config() = default;
    /// Builds a table from already validated values (used by the kernel and by tests).
    explicit Config(std::string table_name, std::map<std::string, ConfigValue, std::less<>> values);

    [[nodiscard]] bool get_bool(std::string_view key) const;
    [[nodiscard]] std::int64_t get_int(std::string_view key) const;
    [[nodiscard]] double get_double(std::string_view key) const;
    [[nodiscard]] const std::string& get_string(std::string_view key) const;
    [[nodiscard]] const std::vector<std::string>& get_strings(std::string_view key) const;
    /// True when the key is declared (always true for declared keys after validation).
    [[nodiscard]] bool has(std::string_view key) const;
    /// Name of the table ("kernel" or the plugin's name).
    [[nodiscard]] const std::string& table_name() const { return table_; }
    /// Every value, for diagnostics (`veil config check --print`).
    [[nodiscard]] const std::map<std::string, ConfigValue, std::less<>>& values() const { return values_; }

    /// Builds a table holding each spec's default (required keys absent): for plugin tests.
    static Config defaults(std::string table_name, std::span<const ConfigKeySpec> specs);

private:
    const ConfigValue& at(std::string_view key) const;
    std::string table_;
    std::map<std::string, ConfigValue, std::less<>> values_;
};

}  // namespace veil::sdk
