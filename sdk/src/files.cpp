#include "veil/sdk/files.hpp"

namespace veil::sdk {

namespace fs = std::filesystem;

namespace {
// Makes the missing directories of `dir`, outermost first, each 0700; existing ones are left.
void make_missing(const fs::path& dir) {
    if (dir.empty() || fs::exists(dir)) return;
    make_missing(dir.parent_path());
    fs::create_directory(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}
}  // namespace

void make_private_dirs(const fs::path& dir) {
    make_missing(dir);
    if (!dir.empty()) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

}  // namespace veil::sdk
