// The Unix-socket listener and its connections (see server.hpp).
#include "server.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "line_reader.hpp"

namespace veil::rpc {

// One client. Owned by itself (`self`) from accept until libuv's close callback, so writes,
// reads and late bus answers never touch freed memory; `server` is cleared when it closes.
struct Connection final : Session, std::enable_shared_from_this<Connection> {
    uv_pipe_t pipe{};
    RpcServer* server;
    LineReader reader;
    std::shared_ptr<Connection> self;
    std::size_t in_flight = 0;
    std::size_t pending_bytes = 0;
    bool subscribed = false;
    bool reading = false;
    bool eof = false;              // the client shut down its side: answer what came, then close
    bool close_when_flushed = false;
    bool closing = false;
    bool pumping = false;
    bool writing = false;          // a uv_write is in progress
    std::string outbox;            // output waiting for it (counted in pending_bytes)

    explicit Connection(RpcServer* s) : server(s), reader(s->options_.max_line_bytes) {}

    void set_subscribed(bool on) override { subscribed = on; }

    const ServerOptions& opts() const { return server->options_; }

    void start() {
        pipe.data = this;
        update_reading();
    }

    // Reads only while under every bound (see server.hpp).
    void update_reading() {
        if (closing) return;
        const bool want = !eof && !close_when_flushed && in_flight < opts().max_in_flight &&
                          pending_bytes < opts().max_pending_bytes;
        auto* s = reinterpret_cast<uv_stream_t*>(&pipe);
        if (want && !reading) {
            if (uv_read_start(s, on_alloc, on_read) == 0) reading = true;
        } else if (!want && reading) {
            uv_read_stop(s);
            reading = false;
        }
    }

    static void on_alloc(uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
    }

    static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* c = static_cast<Connection*>(s->data);
        std::unique_ptr<char[]> owned(buf->base);
        if (n > 0) {
            c->reader.feed(std::string_view(buf->base, static_cast<std::size_t>(n)));
        } else if (n < 0 && n != UV_EOF) {
            return c->close();  // reset or another error: no answer can reach it
        } else if (n < 0) {
            c->eof = true;  // the client finished writing; it may still read our answers
            c->reader.feed("\n");  // a last line without its newline still counts
            if (c->reading) {
                uv_read_stop(s);
                c->reading = false;
            }
        }
        c->pump();
    }

    // Starts the complete lines that fit under the bounds, then re-evaluates reading/closing.
    void pump() {
        if (pumping || closing) return;
        pumping = true;
        auto keep = self;  // an answer may close us while we loop
        bool drained = false;
        while (!closing && in_flight < opts().max_in_flight && pending_bytes < opts().max_pending_bytes) {
            auto line = reader.next();
            if (!line) {
                drained = true;
                break;
            }
            if (line->too_long) {
                write(too_long_answer(opts().max_line_bytes));
                continue;
            }
            ++in_flight;
            std::weak_ptr<Connection> weak = weak_from_this();
            handle_line(server->bus_, opts().dispatch, line->text, *this, [weak](std::string answer) {
                auto c = weak.lock();
                if (!c || c->closing) return;
                --c->in_flight;
                if (!answer.empty()) c->write(std::move(answer));
                c->pump();
            });
        }
        pumping = false;
        if (!closing && eof && drained && in_flight == 0) close_when_flushed = true;
        if (!closing && close_when_flushed && pending_bytes == 0 && in_flight == 0) return close();
        update_reading();
    }

    struct WriteReq {
        uv_write_t req{};
        std::string data;
        Connection* conn;
    };

    // Queues output. While one write is with libuv, later lines gather in `outbox` and leave
    // as one write when it completes (fewer syscalls when answers come in bursts).
    void write(std::string data) {
        if (closing) return;
        pending_bytes += data.size();
        if (server != nullptr && pending_bytes > server->stats_.peak_pending_bytes) {
            server->stats_.peak_pending_bytes = pending_bytes;
        }
        if (writing) {
            outbox += data;
            return;
        }
        start_write(std::move(data));
    }

    void start_write(std::string data) {
        auto* w = new WriteReq{{}, std::move(data), this};
        w->req.data = w;
        uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
        writing = true;
        if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&pipe), &buf, 1, on_written) != 0) {
            writing = false;
            pending_bytes -= w->data.size();
            delete w;
            close();
        }
    }

    static void on_written(uv_write_t* req, int status) {
        std::unique_ptr<WriteReq> w(static_cast<WriteReq*>(req->data));
        Connection* c = w->conn;
        c->pending_bytes -= w->data.size();
        c->writing = false;
        if (c->closing) return;
        if (status < 0) return c->close();
        if (!c->outbox.empty()) c->start_write(std::exchange(c->outbox, {}));
        c->pump();
    }

    // A notification from the event stream: written, or the connection is dropped if it would
    // exceed its output bound (it is not reading what we send).
    void notify(const std::string& line) {
        if (closing || !subscribed) return;
        if (pending_bytes + line.size() > opts().max_pending_bytes) {
            if (server != nullptr) {
                ++server->stats_.dropped_slow;
                server->log_->warn("closing an RPC subscriber that does not read its events ({} bytes unsent)",
                                   pending_bytes);
            }
            return close();
        }
        write(line);
    }

    void close() {
        if (closing) return;
        closing = true;
        if (server != nullptr) server->forget(this);
        server = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&pipe), [](uv_handle_t* h) {
            auto* c = static_cast<Connection*>(h->data);
            c->self.reset();  // the last owner: frees the connection
        });
    }
};

RpcServer::RpcServer(uv_loop_t* loop, sdk::Bus& bus, ServerOptions options, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), bus_(bus), options_(std::move(options)), log_(std::move(log)) {}

RpcServer::~RpcServer() { stop(); }

void RpcServer::start() {
    // libuv writes with write(2): to a client that already left, that raises SIGPIPE, whose
    // default action kills the daemon. It must be an EPIPE error on that connection instead.
    // Process-wide, so only a default disposition is changed (the kernel may own it later).
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        ::sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, nullptr);
    }
    prepare_socket_path(options_.socket_path);
    auto* l = new uv_pipe_t{};
    uv_pipe_init(loop_, l, 0);
    l->data = this;
    listener_ = l;
    auto fail = [&](const std::string& what, int rc) {
        stop();
        throw std::runtime_error("rpc socket " + options_.socket_path.string() + ": " + what + ": " + uv_strerror(rc));
    };
    if (int rc = uv_pipe_bind(l, options_.socket_path.c_str()); rc != 0) fail("bind", rc);
    // Owner-only before anyone can connect (connect needs listen), so there is no window.
    socket_file_ = restrict_socket_file(options_.socket_path);
    if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(l), 64, on_connection); rc != 0) fail("listen", rc);
}

void RpcServer::stop() {
    if (listener_ != nullptr) {
        listener_->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
        listener_ = nullptr;
        if (socket_file_.ino != 0) remove_socket_file(options_.socket_path, socket_file_);
        socket_file_ = {};
    }
    auto open = connections_;
    for (Connection* c : open) c->close();
    connections_.clear();
}

void RpcServer::on_connection(uv_stream_t* listener, int status) {
    auto* self = static_cast<RpcServer*>(listener->data);
    if (self == nullptr) return;
    if (status < 0) {
        self->log_->warn("rpc accept failed: {}", uv_strerror(status));
        return;
    }
    self->accept_one();
}

void RpcServer::accept_one() {
    auto c = std::make_shared<Connection>(this);
    c->self = c;
    uv_pipe_init(loop_, &c->pipe, 0);
    c->pipe.data = c.get();
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_), reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
        c->server = nullptr;
        c->closing = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe), [](uv_handle_t* h) { static_cast<Connection*>(h->data)->self.reset(); });
        return;
    }
    connections_.insert(c.get());
    // Another uid (root included) is refused even though file modes would let root in.
    uv_os_fd_t fd = -1;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
        ++stats_.refused;
        log_->warn("refused an RPC connection from another user");
        c->close();
        return;
    }
    if (connections_.size() > options_.max_connections) {
        ++stats_.refused;
        log_->warn("refused an RPC connection: {} already open", options_.max_connections);
        c->close_when_flushed = true;
        c->write(to_line(error_response(
            json(), {code::server_busy, "too many connections (" + std::to_string(options_.max_connections) + ")", {}})));
        return;
    }
    ++stats_.accepted;
    c->start();
}

void RpcServer::forget(Connection* c) { connections_.erase(c); }

void RpcServer::broadcast(const json& note) {
    const std::string line = to_line(note);
    auto open = connections_;  // notify may close (and forget) a connection
    for (Connection* c : open) c->notify(line);
}

ServerStats RpcServer::stats() const {
    ServerStats s = stats_;
    s.connections = connections_.size();
    return s;
}

}  // namespace veil::rpc
