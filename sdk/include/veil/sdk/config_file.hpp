#pragma once
/// Reading and validating a Veil TOML config (used by the kernel, `veil config check` and
/// plugin tests). Loop thread or any single thread; a ConfigDocument is not shared.
/// Every error names the file (or "--set"), the line and the full key: "a.toml:7: ...".

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "veil/sdk/config.hpp"
#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk {

/// A parsed TOML document plus `--set` overrides, before validation.
class VEIL_SDK_API ConfigDocument final {
public:
    /// Parses a file; a syntax error is bad_input "file:line: message".
    static Result<ConfigDocument> parse_file(const std::filesystem::path& file);
    /// Parses text; `source` names it in messages.
    static Result<ConfigDocument> parse_text(std::string_view text, std::string source);

    ConfigDocument(ConfigDocument&&) noexcept;
    ConfigDocument& operator=(ConfigDocument&&) noexcept;
    ~ConfigDocument();

    /// Applies "table.key=value". The value is TOML ("8080", "true", "[\"a\"]"); text that
    /// is not valid TOML is taken as a string. bad_input if the assignment is malformed.
    Status set(std::string_view assignment);
    /// Names of the top-level tables, in file order.
    [[nodiscard]] std::vector<std::string> tables() const;
    /// Top-level entries that are not tables, as "file:line: ..." messages.
    [[nodiscard]] std::vector<std::string> stray_entries() const;
    /// Line of table `name` in the file (0 if it was not in the file).
    [[nodiscard]] std::size_t line_of(std::string_view table) const;
    /// The file name (or source) for messages.
    [[nodiscard]] const std::string& source() const;
    /// The directory of the file, for resolving relative paths ("" for text).
    [[nodiscard]] std::filesystem::path base_dir() const;

    /// Validates table `name` (absent = empty) against `specs`: unknown keys, wrong types and
    /// missing required keys are errors (bad_input, one "file:line: ..." line per problem);
    /// defaults fill the rest.
    [[nodiscard]] Result<Config> table(std::string_view name,
                                       std::span<const ConfigKeySpec> specs) const;

private:
    ConfigDocument();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace veil::sdk
