// veil-link as a process (plugins/directory/link_main.cpp): hostile peers cost it a connection,
// never the process. Needs no namespace.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

using namespace veil::test;

namespace {

int listener(std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

int connect_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    for (int i = 0; i < 200; ++i) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::close(fd);
    return -1;
}

}  // namespace

TEST_CASE("veil-link - a client that resets while the host's answer streams to it costs a connection, not the process",
          "[chaos][integration]") {
    std::uint16_t up_port = 0, link_port = 0;
    int up = listener(up_port);
    int probe = listener(link_port);  // a free port for the emulator
    ::close(probe);
    // The host: to every connection, 8 MB, then close.
    std::thread host([up] {
        std::vector<char> block(1 << 16, 'x');
        for (int i = 0; i < 3; ++i) {
            int c = ::accept(up, nullptr, nullptr);
            if (c < 0) return;
            for (int k = 0; k < 128; ++k)
                if (::send(c, block.data(), block.size(), MSG_NOSIGNAL) < 0) break;
            ::close(c);
        }
    });
    pid_t link = ::fork();
    REQUIRE(link >= 0);
    if (link == 0) {
        auto exe = std::string(VEIL_BINARY_DIR) + "/bin/veil-link";
        auto at = "127.0.0.1:" + std::to_string(link_port), to = "127.0.0.1:" + std::to_string(up_port);
        ::execl(exe.c_str(), exe.c_str(), "--listen", at.c_str(), "--to", to.c_str(), "--link", "host", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Two clients read a little and reset: the emulator's writes to them fail (EPIPE, ECONNRESET).
    for (int i = 0; i < 2; ++i) {
        int c = connect_to(link_port);
        REQUIRE(c >= 0);
        char buf[4096];
        REQUIRE(::recv(c, buf, sizeof buf, 0) > 0);
        linger l{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(c);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    int status = 0;
    bool alive = ::waitpid(link, &status, WNOHANG) == 0;
    INFO("veil-link ended: " << (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status)) : "exit " + std::to_string(WEXITSTATUS(status))));
    CHECK(alive);
    // And it still serves: a third client gets the host's bytes.
    if (alive) {
        int c = connect_to(link_port);
        REQUIRE(c >= 0);
        char buf[4096];
        CHECK(::recv(c, buf, sizeof buf, 0) > 0);
        ::close(c);
        ::kill(link, SIGTERM);
        ::waitpid(link, nullptr, 0);
    }
    ::shutdown(up, SHUT_RDWR);
    ::close(up);
    host.join();
}
