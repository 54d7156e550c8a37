// The dependency guard: units (each folder directly under plugins/, transports/, storage/ and
// frontends/) meet only through the SDK and the bus, so none may include another unit's headers,
// link another unit's library, or put another unit on its include path. The SDK and the kernel
// may include no unit's header either.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace veil::architecture {

enum class ViolationKind {
    kInclude = 1,   ///< a source file includes a header of another unit
    kLink,          ///< a target links a target defined in another unit
    kIncludeDir,    ///< a target has another unit, or the root of all units, as include directory
};

/// One edge that breaks the rule. Paths are relative to the checked tree, with '/' separators.
struct Violation {
    ViolationKind kind;
    std::string from;      ///< the offending file ("plugins/a/x.cpp") or target name
    int line = 0;          ///< kInclude only: 1-based line of the #include
    std::string from_part; ///< the part `from` belongs to ("plugins/a", "sdk", "kernel")
    std::string what;      ///< the included name, the linked target, or the include directory
    std::string to_part;   ///< the unit reached ("plugins/b"), or the root for a kIncludeDir root

    /// One line for a person: `file:line: includes "X" from unit Y`,
    /// `target A (unit U) links target B (unit V)`, or
    /// `target A (unit U) has include directory D (...)`.
    [[nodiscard]] std::string message() const;
};

/// Every violation under `root`, the source tree: includes first, by file and line.
/// `link_graph` is the file cmake/VeilLinkGraph.cmake writes at configure time; an empty path
/// checks includes only. Throws std::runtime_error when `link_graph` cannot be read or has a
/// malformed line.
[[nodiscard]] std::vector<Violation> check_tree(const std::filesystem::path& root,
                                                const std::filesystem::path& link_graph);

}  // namespace veil::architecture
