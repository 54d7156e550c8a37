// rpc benchmark: `profile` calls per second through the RPC layer (framing, JSON parse and
// build, a bus round trip to a GetProfile server run by the bench, the socket both ways), one
// at a time and pipelined, against the raw limit measured in the same run: line round trips of
// the same sizes over a Unix socket to a thread that answers without JSON or a bus.
// The messenger itself is not in the measurement. Usage: veil_rpc_bench [calls]
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "server.hpp"
#include "veil/sdk/log.hpp"
#include "veil/sdk/messenger.hpp"

using namespace veil;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

int connect_to(const fs::path& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    return fd;
}

void write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) std::exit(1);
        off += static_cast<std::size_t>(n);
    }
}

// Reads until `lines` newlines have arrived; returns the bytes of the last line.
std::size_t read_lines(int fd, std::size_t lines, std::string& carry) {
    char buf[65536];
    std::size_t seen = 0, last = 0;
    for (;;) {
        std::size_t start = 0;
        for (std::size_t nl; seen < lines && (nl = carry.find('\n', start)) != std::string::npos; start = nl + 1) {
            ++seen;
            last = nl - start;
        }
        carry.erase(0, start);
        if (seen == lines) return last;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) std::exit(1);
        carry.append(buf, static_cast<std::size_t>(n));
    }
}

// Calls/s one at a time and pipelined (a writer thread sends while this thread reads).
std::pair<double, double> measure(const fs::path& socket, const std::string& line, std::size_t calls) {
    int fd = connect_to(socket);
    std::string carry;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) {
        write_all(fd, line);
        read_lines(fd, 1, carry);
    }
    double seq = static_cast<double>(calls) / std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    std::thread writer([&] {
        for (std::size_t i = 0; i < calls; ++i) write_all(fd, line);
    });
    read_lines(fd, calls, carry);
    writer.join();
    double piped = static_cast<double>(calls) / std::chrono::duration<double>(Clock::now() - t0).count();
    ::close(fd);
    return {seq, piped};
}

// The raw limit: answers each line with `answer`, no parsing beyond the newline.
void raw_server(int listen_fd, std::string answer) {
    int fd = ::accept(listen_fd, nullptr, nullptr);
    char buf[65536];
    std::string out;
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.clear();
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n') out += answer;
        }
        if (!out.empty()) write_all(fd, out);
    }
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t calls = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
    char tmpl[] = "/tmp/veil-rpc-bench-XXXXXX";
    fs::path dir = ::mkdtemp(tmpl);
    const std::string request = R"({"jsonrpc":"2.0","method":"profile","id":12345})" "\n";

    // The RPC server on its own loop thread, as in the daemon.
    std::promise<void> ready;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_async_t stop{};
    std::thread loop_thread([&] {
        sdk::Bus bus(&loop);
        auto profile = bus.serve<sdk::messenger::GetProfile>(
            [](const sdk::messenger::GetProfile&, sdk::Responder<sdk::messenger::Profile> r) {
                r.reply({"05" + std::string(64, 'a'), std::string(64, 'd')});
            });
        rpc::ServerOptions o;
        o.socket_path = dir / "rpc.sock";
        auto server = std::make_unique<rpc::RpcServer>(&loop, bus, o, sdk::log::get("rpc-bench"));
        server->start();
        struct Stop {
            std::unique_ptr<rpc::RpcServer>* server;
            sdk::Subscription* sub;
            sdk::Bus* bus;
        } s{&server, &profile, &bus};
        stop.data = &s;
        uv_async_init(&loop, &stop, [](uv_async_t* a) {
            auto* st = static_cast<Stop*>(a->data);
            st->server->reset();
            st->sub->reset();
            st->bus->close();
            uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
        });
        ready.set_value();
        uv_run(&loop, UV_RUN_DEFAULT);
    });
    ready.get_future().wait();

    // The answer the raw server sends has the size of the real one.
    std::string answer;
    {
        int fd = connect_to(dir / "rpc.sock");
        write_all(fd, request);
        std::string carry;
        answer = std::string(read_lines(fd, 1, carry), 'x') + "\n";
        ::close(fd);
    }
    auto [rpc_seq, rpc_piped] = measure(dir / "rpc.sock", request, calls);
    uv_async_send(&stop);
    loop_thread.join();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    fs::path raw_path = dir / "raw.sock";
    std::strncpy(addr.sun_path, raw_path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 4) != 0) return 1;
    std::thread raw(raw_server, lfd, answer);
    auto [raw_seq, raw_piped] = measure(raw_path, request, calls);
    raw.join();
    ::close(lfd);
    fs::remove_all(dir);

    std::printf("rpc benchmark: %zu profile calls (%zu-byte request, %zu-byte answer)\n", calls, request.size(),
                answer.size());
    std::printf("  one at a time: rpc %9.0f calls/s   raw line round trips %9.0f/s   ratio %.3f\n", rpc_seq, raw_seq,
                rpc_seq / raw_seq);
    std::printf("  pipelined:     rpc %9.0f calls/s   raw line round trips %9.0f/s   ratio %.3f\n", rpc_piped,
                raw_piped, rpc_piped / raw_piped);
    return 0;
}
