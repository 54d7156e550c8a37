#pragma once
// Plain blocking TCP sockets for attack tests: a connection from a chosen 127.x.y.z source
// (tests run on 127.0.0.0/8, so one test can play many source addresses), raw writes, and a
// check whether the server closed it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace veil::test {

class RawSocket final {
public:
    /// Connects to 127.0.0.1:port from `source` (e.g. "127.0.3.7"); ok() false on failure.
    RawSocket(const std::string& source, std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) return;
        sockaddr_in from{};
        from.sin_family = AF_INET;
        ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
            ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~RawSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    [[nodiscard]] bool ok() const { return fd_ >= 0; }
    /// Writes all of `bytes` (blocking); false once the peer has closed.
    bool send(const std::vector<std::uint8_t>& bytes) {
        std::size_t at = 0;
        while (fd_ >= 0 && at < bytes.size()) {
            auto n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return false;
            at += static_cast<std::size_t>(n);
        }
        return fd_ >= 0;
    }
    /// True if the server closed the connection (EOF or reset), waiting up to `wait_ms`.
    bool closed_by_peer(int wait_ms = 0) {
        if (fd_ < 0) return true;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, wait_ms) <= 0) return false;
        std::uint8_t b[4096];
        auto n = ::recv(fd_, b, sizeof b, MSG_DONTWAIT);
        return n <= 0;
    }

private:
    int fd_ = -1;
};

/// A frame header (u32 length | u64 id | u8 status ok) announcing `payload_bytes`, then the start
/// of a service request naming `service` with a body of `body_bytes`.
inline std::vector<std::uint8_t> frame_start(const std::string& service, std::uint32_t body_bytes) {
    std::vector<std::uint8_t> out;
    auto u32 = [&](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
    };
    auto payload = 4 + static_cast<std::uint32_t>(service.size()) + 4 + body_bytes;
    u32(8 + 1 + payload);
    for (int i = 0; i < 8; ++i) out.push_back(0);
    out.push_back(1);
    u32(static_cast<std::uint32_t>(service.size()));
    out.insert(out.end(), service.begin(), service.end());
    u32(body_bytes);
    return out;
}

}  // namespace veil::test
