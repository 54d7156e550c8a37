// Socket file checks, permissions and removal (see socket_path.hpp).
#include "socket_path.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace veil::rpc {

namespace {

std::runtime_error fail(const std::filesystem::path& path, const std::string& why) {
    return std::runtime_error("rpc socket " + path.string() + ": " + why);
}

// True when a process accepts connections on the socket at `path`.
bool someone_listens(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw fail(path, std::string("socket(): ") + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.native().size());
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::close(fd);
    if (rc == 0) return true;
    if (err == ECONNREFUSED) return false;
    if (err == EAGAIN) return true;  // a full backlog: alive
    throw fail(path, std::string("cannot check the existing socket: ") + std::strerror(err));
}

}  // namespace

void prepare_socket_path(const std::filesystem::path& path) {
    if (path.empty()) throw fail(path, "empty path");
    if (path.native().size() >= sizeof(sockaddr_un::sun_path)) {
        throw fail(path, "path is " + std::to_string(path.native().size()) + " bytes; a Unix socket path holds at most " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " (set rpc.socket to a shorter one)");
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw fail(path, std::strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode)) throw fail(path, "exists and is not a socket; refusing to replace it");
    if (someone_listens(path)) throw fail(path, "another process is serving on it (is a daemon already running?)");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw fail(path, std::string("cannot remove the stale socket: ") + std::strerror(errno));
    }
}

SocketFile restrict_socket_file(const std::filesystem::path& path) {
    if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) throw fail(path, std::string("chmod: ") + std::strerror(errno));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw fail(path, std::string("stat: ") + std::strerror(errno));
    return SocketFile{st.st_dev, st.st_ino};
}

void remove_socket_file(const std::filesystem::path& path, const SocketFile& ours) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    if (st.st_dev == ours.dev && st.st_ino == ours.ino) ::unlink(path.c_str());
}

}  // namespace veil::rpc
