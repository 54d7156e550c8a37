#pragma once
// A blocking HTTP/1.1 and WebSocket client over a real socket to 127.0.0.1, for the web
// server tests (it runs on a std::thread while the server's loop runs on the test thread).
// Every read has a 10 s socket timeout so a broken server fails the test instead of hanging.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

namespace veil::web::test {

/// A connected TCP socket (closed on destruction).
class Socket final {
public:
    explicit Socket(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{10, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    }
    ~Socket() { ::close(fd_); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    void send_all(const std::string& bytes) const {
        std::size_t off = 0;
        while (off < bytes.size()) {
            auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            off += static_cast<std::size_t>(n);
        }
    }
    /// Up to `max` bytes; "" at EOF; throws when nothing came within the socket timeout.
    std::string recv_some(std::size_t max = 65536) const {
        std::string buf(max, '\0');
        auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) throw std::runtime_error("timed out");
        buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return buf;
    }
    /// Exactly n bytes (throws at EOF).
    std::string recv_exact(std::size_t n) const {
        std::string out;
        while (out.size() < n) {
            auto part = recv_some(n - out.size());
            if (part.empty()) throw std::runtime_error("connection closed early");
            out += part;
        }
        return out;
    }

private:
    int fd_ = -1;
};

/// One HTTP response.
struct HttpReply {
    int status = 0;
    std::string head;  ///< status line and headers, lower-cased names kept as sent
    std::string body;
    /// The value of header `name` (case-insensitive), or nullopt.
    [[nodiscard]] std::optional<std::string> header(const std::string& name) const {
        std::string lower_head = head, lower_name = name + ":";
        for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto pos = lower_head.find("\r\n" + lower_name);
        if (pos == std::string::npos) return std::nullopt;
        auto start = pos + 2 + lower_name.size();
        auto end = head.find("\r\n", start);
        std::string v = head.substr(start, end - start);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        return v;
    }
};

/// Reads one response (headers, then content-length bytes) from `s`.
inline HttpReply read_reply(const Socket& s) {
    std::string data;
    std::size_t end;
    while ((end = data.find("\r\n\r\n")) == std::string::npos) {
        auto part = s.recv_some();
        if (part.empty()) throw std::runtime_error("no HTTP response");
        data += part;
    }
    HttpReply r;
    r.head = data.substr(0, end);
    r.status = std::stoi(r.head.substr(9, 3));
    r.body = data.substr(end + 4);
    auto len = r.header("content-length");
    if (len) {
        auto n = std::stoul(*len);
        if (r.body.size() < n) r.body += s.recv_exact(n - r.body.size());
    }
    return r;
}

/// Sends `request` (a full HTTP request) on a new connection and reads the response.
inline HttpReply http(std::uint16_t port, const std::string& request) {
    Socket s(port);
    s.send_all(request);
    return read_reply(s);
}

/// A GET with the usual headers; `extra` is added verbatim (each line ending in \r\n).
inline std::string get_request(std::uint16_t port, const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra + "\r\n";
}

/// A WebSocket client: handshake, masked text frames out, frames in.
class WsClient final {
public:
    /// Connects and upgrades; `status` is the HTTP status of the handshake (101 on success).
    WsClient(std::uint16_t port, const std::string& extra_headers) : s_(port) {
        s_.send_all("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: veil\r\n" +
                    extra_headers + "\r\n");
        std::string data;
        std::size_t end;
        while ((end = data.find("\r\n\r\n")) == std::string::npos) {
            auto part = s_.recv_some(1);
            if (part.empty()) throw std::runtime_error("no handshake response");
            data += part;
        }
        status = std::stoi(data.substr(9, 3));
    }
    int status = 0;

    void send_text(const std::string& text) {
        std::string f;
        f.push_back(static_cast<char>(0x81));
        if (text.size() < 126) {
            f.push_back(static_cast<char>(0x80 | text.size()));
        } else {
            f.push_back(static_cast<char>(0x80 | 126));
            f.push_back(static_cast<char>(text.size() >> 8));
            f.push_back(static_cast<char>(text.size() & 0xff));
        }
        const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
        f.append(reinterpret_cast<const char*>(mask), 4);
        for (std::size_t i = 0; i < text.size(); ++i) f.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
        s_.send_all(f);
    }
    /// The payload of the next text frame.
    std::string read_text() {
        auto h = s_.recv_exact(2);
        std::uint64_t len = static_cast<unsigned char>(h[1]) & 0x7f;
        if (len == 126) {
            auto e = s_.recv_exact(2);
            len = (static_cast<unsigned char>(e[0]) << 8) | static_cast<unsigned char>(e[1]);
        } else if (len == 127) {
            auto e = s_.recv_exact(8);
            len = 0;
            for (char c : e) len = (len << 8) | static_cast<unsigned char>(c);
        }
        return s_.recv_exact(len);
    }

private:
    Socket s_;
};

}  // namespace veil::web::test
