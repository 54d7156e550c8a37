#pragma once
// Helpers for the storage tests: a private temp dir, file bytes, a libuv loop that runs until
// a condition holds (bounded by a safety deadline, not a timed assertion).
#include <stdlib.h>
#include <uv.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

#include "support/loop.hpp"
#include "veil/crypto/secret_bytes.hpp"
#include "veil/wire/codec.hpp"

namespace veil::test {

/// A fresh directory under /tmp, removed when the object dies.
class StorageDir {
public:
    StorageDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "veil-storage-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~StorageDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    StorageDir(const StorageDir&) = delete;
    StorageDir& operator=(const StorageDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// Every byte of a file ("" if it does not exist).
inline std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Writes `text` to `p` (replacing it).
inline void write_text(const std::filesystem::path& p, std::string_view text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

inline veil::wire::Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

inline veil::crypto::SecretBytes secret(std::string_view s) { return veil::crypto::SecretBytes::copy_of(s); }

/// A libuv loop for one test (the kernel tests' helper).
using StorageLoop = TestLoop;

}  // namespace veil::test
