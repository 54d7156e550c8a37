#pragma once
// Helpers for the attachments tests: corpus files, temp files, running Debian's image tools.

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "strip_types.hpp"

namespace veil::exif_strip::test {

inline std::filesystem::path corpus_dir() { return std::filesystem::path(VEIL_SOURCE_DIR) / "tests/data/images"; }

/// Every corpus file of one format folder ("jpeg", "png", "webp"), sorted.
inline std::vector<std::filesystem::path> corpus_files(const std::string& folder) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / folder)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

inline Bytes read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + p.string());
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, ByteView b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!f) throw std::runtime_error("cannot write " + p.string());
}

/// A fresh directory under the build tree, removed when the object goes.
class TempDir final {
public:
    explicit TempDir(const std::string& name)
        : path_(std::filesystem::path(VEIL_BINARY_DIR) / "test-tmp" / name) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] std::filesystem::path operator/(const std::string& f) const { return path_ / f; }

private:
    std::filesystem::path path_;
};

struct CommandResult final {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

/// Runs a shell command; its arguments must already be quoted.
inline CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* pipe = ::popen(("( " + command + " ) 2>&1").c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

/// True when a tool is on PATH. Tests that need one FAIL (never skip) without it.
inline bool have_tool(const std::string& tool) {
    return run_command("command -v " + tool + " >/dev/null").exit_code == 0;
}

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace veil::exif_strip::test
