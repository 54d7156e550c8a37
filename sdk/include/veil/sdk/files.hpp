#pragma once
/// Files a plugin keeps under HOME: private to the user who runs veil.

#include <filesystem>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// Creates `dir` and every missing parent; each directory it makes is 0700 (so is `dir` itself,
/// even when it existed). Throws std::filesystem::filesystem_error. Any thread.
VEIL_SDK_API void make_private_dirs(const std::filesystem::path& dir);

}  // namespace veil::sdk
