#include "veil/crypto/key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace veil::crypto {

namespace {

namespace fs = std::filesystem;

// Reads exactly `size` bytes into `out`; false if the file does not exist.
bool read_exact(const fs::path& path, unsigned char* out, std::size_t size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return false;
        throw std::runtime_error("cannot read key file " + path.string());
    }
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, out + got, size - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    unsigned char extra = 0;
    bool longer = ::read(fd, &extra, 1) > 0;
    ::close(fd);
    if (got != size || longer) throw std::runtime_error("key file " + path.string() + " has the wrong size");
    return true;
}

void write_new(const fs::path& path, const unsigned char* data, std::size_t size) {
    if (path.has_parent_path()) {
        fs::create_directories(path.parent_path());
        fs::permissions(path.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create key file " + path.string());
    bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write key file " + path.string());
}

}  // namespace

SigningKeyPair load_or_create_signing_key(const fs::path& path) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    auto* seed = static_cast<unsigned char*>(sodium_malloc(32));
    if (!seed) throw std::bad_alloc();
    try {
        if (!read_exact(path, seed, 32)) {
            randombytes_buf(seed, 32);
            write_new(path, seed, 32);
        }
        auto key = SigningKeyPair::from_seed(ByteView(seed, 32));
        sodium_free(seed);
        return key;
    } catch (...) {
        sodium_free(seed);
        throw;
    }
}

std::string load_or_create_hex_secret(const fs::path& path) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    unsigned char raw[32];
    if (!read_exact(path, raw, 32)) {
        randombytes_buf(raw, sizeof raw);
        write_new(path, raw, sizeof raw);
    }
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    std::string out(hex, 64);
    sodium_memzero(hex, sizeof hex);
    return out;
}

}  // namespace veil::crypto
