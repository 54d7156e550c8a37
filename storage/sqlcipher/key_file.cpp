#include "key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "error.hpp"
#include "veil/crypto/error.hpp"

namespace veil::sqlcipher {

namespace fs = std::filesystem;
using crypto::SecretBytes;

namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'v', 'e', 'i', 'l', '-', 'd', 'b', 'k'};
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kChecksumBytes = 16;
constexpr std::size_t kHeaderBytes = kMagic.size() + 3 + 4;  // magic, version, protection, profile, length
constexpr std::size_t kMaxWrappedBytes = 256;

[[noreturn]] void damaged(const std::string& why) { throw Error(Failure::damaged_key_file, "key file is damaged: " + why); }

std::array<std::uint8_t, kChecksumBytes> checksum(wire::ByteView b) {
    std::array<std::uint8_t, kChecksumBytes> out{};
    crypto_generichash(out.data(), out.size(), b.data(), b.size(), nullptr, 0);
    return out;
}

[[noreturn]] void io_error(const std::string& what, const fs::path& path) {
    throw Error(Failure::io, what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes a file descriptor when the scope ends.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

KeyFileView parse_key_file(wire::ByteView bytes) {
    crypto::ensure_sodium();
    if (bytes.size() < kHeaderBytes + kChecksumBytes) damaged("too short");
    if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) damaged("not a Veil key file");
    auto body = bytes.first(bytes.size() - kChecksumBytes);
    auto sum = checksum(body);
    if (sodium_memcmp(sum.data(), bytes.data() + body.size(), kChecksumBytes) != 0) damaged("checksum mismatch");
    try {
        wire::Reader r(body);
        r.raw(kMagic.size());
        if (auto v = r.u8(); v != kFormatVersion) damaged("unsupported format version " + std::to_string(v));
        KeyFileView f;
        auto p = r.u8();
        if (p != static_cast<std::uint8_t>(Protection::none) && p != static_cast<std::uint8_t>(Protection::passphrase)) {
            damaged("unknown protection " + std::to_string(p));
        }
        f.protection = static_cast<Protection>(p);
        f.cipher_profile = r.u8();
        if (f.cipher_profile != kCipherProfile) damaged("unknown cipher profile " + std::to_string(f.cipher_profile));
        f.payload = r.var(kMaxWrappedBytes);
        r.expect_done();
        if (f.protection == Protection::none && f.payload.size() != kKeyBytes && f.payload.size() != 2 * kKeyBytes) {
            damaged("key of " + std::to_string(f.payload.size()) + " bytes");
        }
        return f;
    } catch (const wire::DecodeError& e) {
        damaged(e.what());
    }
}

KeyMaterial open_key_file(const KeyFileView& file, const SecretBytes* passphrase) {
    SecretBytes material;
    if (file.protection == Protection::none) {
        material = SecretBytes::copy_of(file.payload);
    } else {
        if (!passphrase) {
            throw Error(Failure::passphrase_required,
                        "the database is protected by a passphrase: give --passphrase-file FILE or set VEIL_PASSPHRASE");
        }
        try {
            material = crypto::unwrap_key(file.payload, passphrase->str());
        } catch (const crypto::Error& e) {
            if (e.kind() == crypto::ErrorKind::wrong_passphrase) {
                throw Error(Failure::wrong_passphrase, "wrong passphrase: it does not open the database key");
            }
            damaged(e.what());
        }
        if (material.size() != kKeyBytes && material.size() != 2 * kKeyBytes) damaged("wrapped key of wrong size");
    }
    KeyMaterial keys;
    keys.current = SecretBytes::copy_of(material.view().first(kKeyBytes));
    if (material.size() == 2 * kKeyBytes) keys.next = SecretBytes::copy_of(material.view().subspan(kKeyBytes));
    return keys;
}

SecretBytes seal_key_file(const KeyMaterial& keys, const SecretBytes* passphrase, const crypto::WrapParams& params) {
    crypto::ensure_sodium();
    if (keys.current.size() != kKeyBytes || (!keys.next.empty() && keys.next.size() != kKeyBytes)) {
        throw Error(Failure::bad_input, "database keys must be 32 bytes");
    }
    SecretBytes material(keys.current.size() + keys.next.size());
    std::memcpy(material.data(), keys.current.data(), keys.current.size());
    if (!keys.next.empty()) std::memcpy(material.data() + kKeyBytes, keys.next.data(), keys.next.size());
    wire::Bytes wrapped;
    if (passphrase) wrapped = crypto::wrap_key(material, passphrase->str(), params);
    wire::ByteView payload = passphrase ? wire::ByteView(wrapped) : material.view();

    wire::Writer h;
    h.raw(kMagic).u8(kFormatVersion);
    h.u8(static_cast<std::uint8_t>(passphrase ? Protection::passphrase : Protection::none));
    h.u8(kCipherProfile).u32(static_cast<std::uint32_t>(payload.size()));
    SecretBytes out(h.bytes().size() + payload.size() + kChecksumBytes);
    std::memcpy(out.data(), h.bytes().data(), h.bytes().size());
    std::memcpy(out.data() + h.bytes().size(), payload.data(), payload.size());
    auto body = out.view().first(out.size() - kChecksumBytes);
    auto sum = checksum(body);
    std::memcpy(out.data() + body.size(), sum.data(), sum.size());
    return out;
}

SecretBytes read_key_file(const fs::path& path) {
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) io_error("cannot open key file", path);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) io_error("cannot stat key file", path);
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) damaged("larger than 4096 bytes");
    SecretBytes out(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
        auto n = ::read(f.fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) io_error("cannot read key file", path);
        if (n == 0) damaged("shorter than its size");
        got += static_cast<std::size_t>(n);
    }
    return out;
}

void write_key_file(const fs::path& path, wire::ByteView bytes) {
    auto tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());  // one per process: concurrent writers never share it
    {
        Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)};
        if (f.fd < 0) io_error("cannot create key file", tmp);
        if (::fchmod(f.fd, 0600) != 0) io_error("cannot chmod key file", tmp);
        std::size_t done = 0;
        while (done < bytes.size()) {
            auto n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) io_error("cannot write key file", tmp);
            done += static_cast<std::size_t>(n);
        }
        if (::fsync(f.fd) != 0) io_error("cannot sync key file", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) io_error("cannot replace key file", path);
    auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0 || ::fsync(d.fd) != 0) io_error("cannot sync directory", dir);
}

}  // namespace veil::sqlcipher
