// The link emulator of `testnet up --hosts`: its profile file, and bytes through it on a loop
// (plugins/directory/link_profile.hpp, link_emulator.hpp). Only contents and order are checked,
// never timing.
#include <catch2/catch.hpp>

#include <uv.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "link_emulator.hpp"
#include "link_profile.hpp"

using namespace veil::directory;

namespace {

std::filesystem::path write_profile(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / ("veil-link-profile-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(p) << text;
    return p;
}

std::string error_of(const std::string& text) {
    auto p = write_profile(text);
    try {
        (void)load_link_profile(p, "node-1", std::nullopt);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("link profile - [default] for every link, links.NAME over it, in_/out_ for one direction", "[node]") {
    auto p = write_profile(
        "[default]\ndelay_ms = 40\njitter_ms = 5\nstall_probability = 0.25\nstall_ms = 3000\n"
        "[links.node-3]\nin_delay_ms = 80\nin_bandwidth_kbit = 1000\n");
    auto three = load_link_profile(p, "node-3", std::nullopt);
    CHECK(three.in.delay_ms == 80);
    CHECK(three.out.delay_ms == 40);
    CHECK(three.in.jitter_ms == 5);
    CHECK(three.out.jitter_ms == 5);
    CHECK(three.in.bandwidth_kbit == 1000);
    CHECK(three.out.bandwidth_kbit == 0);
    CHECK(three.stall_probability == 0.25);
    CHECK(three.stall_ms == 3000);
    auto one = load_link_profile(p, "node-1", std::nullopt);
    CHECK(one.in.delay_ms == 40);
    CHECK(one.out.delay_ms == 40);
    // --delay: the same one-way delay on every link, both directions, over the file.
    auto forced = load_link_profile(p, "node-3", 10);
    CHECK(forced.in.delay_ms == 10);
    CHECK(forced.out.delay_ms == 10);
    CHECK(forced.in.bandwidth_kbit == 1000);
    auto none = load_link_profile(std::nullopt, "node-1", std::nullopt);
    CHECK(none.in.delay_ms == 0);
    CHECK(none.stall_probability == 0);
}

TEST_CASE("link profile - an unknown key, table or a wrong value is an error naming the file and line", "[node]") {
    auto e = error_of("[default]\ndelay_ms = 40\ndelya_ms = 3\n");
    CHECK(e.find(".toml:3:") != std::string::npos);
    CHECK(e.find("delya_ms") != std::string::npos);
    CHECK(error_of("[defaults]\ndelay_ms = 1\n").find("unknown table 'defaults'") != std::string::npos);
    CHECK(error_of("[default]\ndelay_ms = \"40\"\n").find("delay_ms must be") != std::string::npos);
    CHECK(error_of("[default]\ndelay_ms = -1\n").find("delay_ms must be") != std::string::npos);
    CHECK(error_of("[default]\nstall_probability = 2.0\n").find("stall_probability") != std::string::npos);
    CHECK(error_of("[links]\nnode-1 = 3\n").find("links.node-1 must be a table") != std::string::npos);
    CHECK(error_of("[default\n").find(".toml:") != std::string::npos);
}

namespace {

// An upstream that echoes what it reads and, after the client's end of stream, ends its own.
struct Echo {
    uv_tcp_t server{};
    uv_tcp_t conn{};
    bool accepted = false;
};

void echo_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    std::unique_ptr<char[]> owned(buf->base);
    if (n < 0) {
        auto* req = new uv_shutdown_t;
        uv_shutdown(req, s, [](uv_shutdown_t* r, int) { delete r; });
        return;
    }
    if (n == 0) return;
    auto* w = new uv_write_t;
    auto* copy = new char[static_cast<std::size_t>(n)];
    std::memcpy(copy, buf->base, static_cast<std::size_t>(n));
    w->data = copy;
    auto b = uv_buf_init(copy, static_cast<unsigned>(n));
    uv_write(w, s, &b, 1, [](uv_write_t* r, int) {
        delete[] static_cast<char*>(r->data);
        delete r;
    });
}

void alloc_buf(uv_handle_t*, std::size_t n, uv_buf_t* b) { *b = uv_buf_init(new char[n], static_cast<unsigned>(n)); }

// The client: writes `chunks` one per loop turn, then ends its stream, and keeps what comes back.
struct Client {
    uv_tcp_t tcp{};
    uv_connect_t connect{};
    uv_timer_t timer{};
    std::vector<std::string> chunks;
    std::size_t next = 0;
    std::string sent, got;
    bool eof = false;
};

}  // namespace

TEST_CASE("link emulator - bytes cross delayed, jittered, narrow links intact and in order, the end of stream after them",
          "[node]") {
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    Echo echo;
    uv_tcp_init(&loop, &echo.server);
    echo.server.data = &echo;
    sockaddr_in any{};
    uv_ip4_addr("127.0.0.1", 0, &any);
    REQUIRE(uv_tcp_bind(&echo.server, reinterpret_cast<const sockaddr*>(&any), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&echo.server), 8, [](uv_stream_t* s, int) {
                auto* e = static_cast<Echo*>(s->data);
                uv_tcp_init(s->loop, &e->conn);
                REQUIRE(uv_accept(s, reinterpret_cast<uv_stream_t*>(&e->conn)) == 0);
                e->accepted = true;
                uv_read_start(reinterpret_cast<uv_stream_t*>(&e->conn), alloc_buf, echo_read);
            }) == 0);
    sockaddr_in echo_at{};
    int len = sizeof echo_at;
    uv_tcp_getsockname(&echo.server, reinterpret_cast<sockaddr*>(&echo_at), &len);

    LinkProfile profile;
    profile.in = {20, 15, 4000};  // 20 ms + up to 15 ms jitter, 4 Mbit/s
    profile.out = {5, 30, 0};
    auto emulator = std::make_unique<LinkEmulator>(&loop, profile, "127.0.0.1", ntohs(echo_at.sin_port));
    emulator->listen("127.0.0.1", 0);

    Client c;
    for (int i = 0; i < 40; ++i) c.chunks.push_back(std::string(static_cast<std::size_t>(100 + 37 * i), static_cast<char>('a' + i % 26)) + std::to_string(i));
    uv_tcp_init(&loop, &c.tcp);
    uv_timer_init(&loop, &c.timer);
    c.tcp.data = c.timer.data = c.connect.data = &c;
    sockaddr_in emu_at{};
    uv_ip4_addr("127.0.0.1", emulator->port(), &emu_at);
    REQUIRE(uv_tcp_connect(&c.connect, &c.tcp, reinterpret_cast<const sockaddr*>(&emu_at), [](uv_connect_t* req, int status) {
                REQUIRE(status == 0);
                auto* cl = static_cast<Client*>(req->data);
                uv_read_start(reinterpret_cast<uv_stream_t*>(&cl->tcp), alloc_buf, [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                    std::unique_ptr<char[]> owned(b->base);
                    auto* me = static_cast<Client*>(s->data);
                    if (n > 0) me->got.append(b->base, static_cast<std::size_t>(n));
                    if (n < 0) {
                        me->eof = true;
                        uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
                    }
                });
                uv_timer_start(&cl->timer, [](uv_timer_t* t) {
                    auto* me = static_cast<Client*>(t->data);
                    auto* stream = reinterpret_cast<uv_stream_t*>(&me->tcp);
                    if (me->next == me->chunks.size()) {
                        uv_timer_stop(t);
                        auto* end = new uv_shutdown_t;
                        uv_shutdown(end, stream, [](uv_shutdown_t* r, int) { delete r; });
                        return;
                    }
                    auto& chunk = me->chunks[me->next++];
                    me->sent += chunk;
                    auto* w = new uv_write_t;
                    auto b = uv_buf_init(chunk.data(), static_cast<unsigned>(chunk.size()));
                    uv_write(w, stream, &b, 1, [](uv_write_t* r, int) { delete r; });
                }, 1, 1);
            }) == 0);

    while (!c.eof && uv_run(&loop, UV_RUN_ONCE)) {
    }
    CHECK(c.eof);
    CHECK(c.got.size() == c.sent.size());
    CHECK(c.got == c.sent);
    CHECK(emulator->accepted() == 1);

    emulator.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&c.timer), nullptr);
    if (echo.accepted) uv_close(reinterpret_cast<uv_handle_t*>(&echo.conn), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&echo.server), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}
