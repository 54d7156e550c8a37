#include "passphrase.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "error.hpp"

namespace veil::sqlcipher {

namespace {
constexpr std::size_t kMaxPassphraseFileBytes = 64 * 1024;
}

std::optional<std::string> find_option(const std::vector<std::string>& args, std::string_view flag) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--") break;
        if (a == flag) {
            if (i + 1 < args.size()) return args[i + 1];
            return std::nullopt;
        }
        if (a.size() > flag.size() && a.starts_with(flag) && a[flag.size()] == '=') {
            return std::string(a.substr(flag.size() + 1));
        }
    }
    return std::nullopt;
}

bool has_flag(const std::vector<std::string>& args, std::string_view flag) {
    for (const auto& a : args) {
        if (a == "--") break;
        if (a == flag) return true;
    }
    return false;
}

crypto::SecretBytes read_passphrase_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw Error(Failure::bad_input, "cannot read passphrase file " + path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw Error(Failure::bad_input, "passphrase file " + path.string() + " is a directory, not a file");
    }
    crypto::SecretBytes buf(kMaxPassphraseFileBytes);
    std::size_t got = 0;
    int read_errno = 0;
    while (got < buf.size()) {
        auto n = ::read(fd, buf.data() + got, buf.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) read_errno = errno;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (read_errno != 0) {
        throw Error(Failure::bad_input, "cannot read passphrase file " + path.string() + ": " + std::strerror(read_errno));
    }
    std::size_t len = 0;
    while (len < got && buf.data()[len] != '\n') ++len;
    if (len > 0 && buf.data()[len - 1] == '\r') --len;
    if (len == 0) throw Error(Failure::bad_input, "passphrase file " + path.string() + " is empty");
    return crypto::SecretBytes::copy_of(buf.view().first(len));
}

std::optional<crypto::SecretBytes> passphrase_from_env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return crypto::SecretBytes::copy_of(std::string_view(v));
}

std::optional<crypto::SecretBytes> resolve_passphrase(const std::vector<std::string>& args,
                                                      const std::string& config_file) {
    if (auto f = find_option(args, "--passphrase-file")) return read_passphrase_file(*f);
    if (has_flag(args, "--passphrase-file")) throw Error(Failure::bad_input, "--passphrase-file needs a FILE");
    if (!config_file.empty()) return read_passphrase_file(config_file);
    return passphrase_from_env("VEIL_PASSPHRASE");
}

}  // namespace veil::sqlcipher
