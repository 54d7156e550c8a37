#include "link_emulator.hpp"

#include <sodium.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <stdexcept>
#include <vector>

namespace veil::directory {

namespace {

constexpr std::size_t kMaxQueuedBytes = 1 << 20;  // per direction: reading pauses above this

struct Connection;

// One direction of a connection: bytes read from `from`, released in order to `to`.
struct Pipe {
    struct Chunk {
        std::uint64_t release_ms;
        std::vector<char> bytes;  // empty: the end of the stream (EOF)
    };
    Connection* conn = nullptr;
    LinkDirection dir;
    uv_tcp_t* from = nullptr;
    uv_tcp_t* to = nullptr;
    uv_timer_t timer{};
    std::deque<Chunk> queue;
    std::size_t queued_bytes = 0;
    std::uint64_t last_release_ms = 0;  // releases never go back in time: TCP order is kept
    std::uint64_t wire_free_ms = 0;     // when the previous chunk has gone through the bandwidth
    bool reading = false;
    bool read_end = false;  // `from` ended its stream: never read it again

    void push(std::uint64_t now_ms, std::uint64_t stall_end_ms, std::vector<char> bytes);
    void flush();
};

struct Connection {
    std::FILE* trace = nullptr;
    std::uint64_t id = 0;
    uv_tcp_t client{}, upstream{};
    uv_connect_t connect{};
    Pipe in, out;  // in: client -> upstream (toward the host), out: upstream -> client
    std::uint64_t stall_end_ms = 0;
    bool connected = false;
    bool closing = false;
    int handles_open = 0;
    int ended = 0;  // directions whose EOF has been delivered

    void close_all();
};

std::uint64_t now_of(uv_loop_t* loop) { return uv_now(loop); }

void on_handle_closed(uv_handle_t* h) {
    auto* c = static_cast<Connection*>(h->data);
    if (--c->handles_open == 0) delete c;
}

void Connection::close_all() {
    if (closing) return;
    closing = true;
    for (auto* h : {reinterpret_cast<uv_handle_t*>(&client), reinterpret_cast<uv_handle_t*>(&upstream),
                    reinterpret_cast<uv_handle_t*>(&in.timer), reinterpret_cast<uv_handle_t*>(&out.timer)}) {
        h->data = this;
        uv_close(h, on_handle_closed);
    }
}

void alloc(uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
    buf->base = new char[suggested];
    buf->len = static_cast<decltype(buf->len)>(suggested);
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    std::unique_ptr<char[]> owned(buf->base);
    auto* pipe = static_cast<Pipe*>(s->data);
    auto* c = pipe->conn;
    if (n == 0 || c->closing) return;
    auto now = now_of(s->loop);
    if (n < 0) {  // EOF or a reset: the end travels with the same delay as the data before it
        uv_read_stop(s);
        pipe->reading = false;
        pipe->read_end = true;
        pipe->push(now, c->stall_end_ms, {});
        return;
    }
    pipe->push(now, c->stall_end_ms, std::vector<char>(buf->base, buf->base + n));
}

void start_reading(Pipe& p) {
    if (p.reading || p.read_end || p.conn->closing) return;
    p.from->data = &p;
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(p.from), alloc, on_read) == 0) p.reading = true;
}

void on_timer(uv_timer_t* t) { static_cast<Pipe*>(t->data)->flush(); }

struct Write {
    uv_write_t req{};
    std::vector<char> bytes;
};

void on_written(uv_write_t* req, int status) {
    std::unique_ptr<Write> w(reinterpret_cast<Write*>(req));
    auto* pipe = static_cast<Pipe*>(req->data);
    if (status < 0) {
        pipe->conn->close_all();
        return;
    }
    pipe->queued_bytes -= std::min(pipe->queued_bytes, w->bytes.size());
    if (pipe->queued_bytes < kMaxQueuedBytes / 2) start_reading(*pipe);
}

void on_shutdown(uv_shutdown_t* req, int) {
    auto* c = static_cast<Connection*>(req->data);
    delete req;
    if (++c->ended == 2) c->close_all();
}

void Pipe::push(std::uint64_t now_ms, std::uint64_t stall_end_ms, std::vector<char> bytes) {
    if (conn->trace)
        std::fprintf(conn->trace, "%llu c%llu %s %zu\n", static_cast<unsigned long long>(now_ms),
                     static_cast<unsigned long long>(conn->id), this == &conn->in ? "in" : "out", bytes.size());
    std::uint64_t start = std::max({now_ms, stall_end_ms, wire_free_ms});
    if (dir.bandwidth_kbit) wire_free_ms = start + bytes.size() * 8 / dir.bandwidth_kbit;  // kbit/s = bit/ms
    std::uint64_t jitter = dir.jitter_ms ? randombytes_uniform(static_cast<std::uint32_t>(dir.jitter_ms + 1)) : 0;
    last_release_ms = std::max(last_release_ms, std::max(start, wire_free_ms) + dir.delay_ms + jitter);
    queued_bytes += bytes.size();
    queue.push_back({last_release_ms, std::move(bytes)});
    if (queued_bytes > kMaxQueuedBytes && reading) {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(from));
        reading = false;
    }
    flush();
}

// Writes every chunk whose time has come, then waits for the next one.
void Pipe::flush() {
    if (conn->closing || !conn->connected) return;
    auto now = now_of(timer.loop);
    while (!queue.empty() && queue.front().release_ms <= now) {
        auto chunk = std::move(queue.front());
        queue.pop_front();
        if (chunk.bytes.empty()) {
            auto* req = new uv_shutdown_t;
            req->data = conn;
            if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(to), on_shutdown) != 0) {
                delete req;
                conn->close_all();
            }
            return;
        }
        auto* w = new Write;
        w->bytes = std::move(chunk.bytes);
        w->req.data = this;
        auto buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
        if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(to), &buf, 1, on_written) != 0) {
            delete w;
            conn->close_all();
            return;
        }
    }
    if (!queue.empty()) uv_timer_start(&timer, on_timer, queue.front().release_ms - now, 0);
}

void on_upstream(uv_connect_t* req, int status) {
    auto* c = static_cast<Connection*>(req->data);
    if (c->closing) return;
    if (status < 0) {
        c->close_all();
        return;
    }
    c->connected = true;
    start_reading(c->out);
    c->in.flush();
}

}  // namespace

LinkEmulator::LinkEmulator(uv_loop_t* loop, LinkProfile profile, const std::string& to_host, std::uint16_t to_port)
    : loop_(loop), profile_(profile) {
    if (uv_ip4_addr(to_host.c_str(), to_port, &to_) != 0) throw std::runtime_error("not an IPv4 address: " + to_host);
    uv_tcp_init(loop_, &server_);
    server_.data = this;
}

LinkEmulator::~LinkEmulator() { close(); }

void LinkEmulator::listen(const std::string& host, std::uint16_t port) {
    sockaddr_in at{};
    if (uv_ip4_addr(host.c_str(), port, &at) != 0) throw std::runtime_error("not an IPv4 address: " + host);
    int rc = uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&at), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 512, on_connection);
    if (rc != 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc));
    listening_ = true;
}

std::uint16_t LinkEmulator::port() const {
    sockaddr_in at{};
    int len = sizeof at;
    uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&at), &len);
    return ntohs(at.sin_port);
}

void LinkEmulator::close() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&server_))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
}

void LinkEmulator::on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<LinkEmulator*>(server->data);
    if (status < 0) return;
    auto* c = new Connection;
    uv_tcp_init(self->loop_, &c->client);
    uv_tcp_init(self->loop_, &c->upstream);
    uv_timer_init(self->loop_, &c->in.timer);
    uv_timer_init(self->loop_, &c->out.timer);
    c->handles_open = 4;
    for (auto [pipe, dir, from, to] : {std::tuple{&c->in, self->profile_.in, &c->client, &c->upstream},
                                       std::tuple{&c->out, self->profile_.out, &c->upstream, &c->client}}) {
        pipe->conn = c;
        pipe->dir = dir;
        pipe->from = from;
        pipe->to = to;
        pipe->timer.data = pipe;
    }
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->client)) != 0) {
        c->close_all();
        return;
    }
    ++self->accepted_;
    c->id = self->accepted_;
    c->trace = self->trace_;
    if (c->trace) std::fprintf(c->trace, "%llu c%llu accepted\n", static_cast<unsigned long long>(uv_now(self->loop_)),
                               static_cast<unsigned long long>(c->id));
    const auto& p = self->profile_;
    if (p.stall_probability > 0 && randombytes_uniform(1'000'000) < static_cast<std::uint32_t>(p.stall_probability * 1e6)) {
        c->stall_end_ms = uv_now(self->loop_) + p.stall_ms;
        ++self->stalled_;
    }
    uv_tcp_nodelay(&c->client, 1);
    uv_tcp_nodelay(&c->upstream, 1);
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->upstream, reinterpret_cast<const sockaddr*>(&self->to_), on_upstream) != 0) {
        c->close_all();
        return;
    }
    start_reading(c->in);
}

}  // namespace veil::directory
