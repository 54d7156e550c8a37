// Framed TCP client: lazy connect, requests numbered, replies matched by id, per-request timeouts.
#include <deque>
#include <unordered_map>

#include "veil/sdk/log.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::sdk::net {

namespace {
struct ClientConn {
    uv_tcp_t tcp{};
    uv_connect_t connect{};
    std::shared_ptr<Client::Core> core;
    FrameDecoder decoder;
    bool dead = false;
    explicit ClientConn(std::shared_ptr<Client::Core> c, std::size_t max) : core(std::move(c)), decoder(max) {}
};

struct ClientWrite {
    uv_write_t req{};
    Bytes data;
};
}  // namespace

struct Client::Core : std::enable_shared_from_this<Client::Core> {
    enum class State : std::uint8_t { idle = 1, connecting, connected };
    struct Pending {
        Done done;
        std::unique_ptr<Timer> timer;
    };

    uv_loop_t* loop = nullptr;
    Endpoint server;
    ClientOptions opts;
    State state = State::idle;
    ClientConn* conn = nullptr;
    std::unique_ptr<Timer> connect_timer;
    std::unique_ptr<Timer> idle_timer;
    std::deque<std::pair<std::uint64_t, Bytes>> unsent;
    std::unordered_map<std::uint64_t, Pending> pending;
    std::uint64_t next_id = 1;
    bool dropped = false;  // the Client is gone: call nothing

    void finish(std::uint64_t id, Result<Bytes> result) {
        auto it = pending.find(id);
        if (it == pending.end()) return;
        auto done = std::move(it->second.done);
        pending.erase(it);
        if (!dropped && done) {
            try {
                done(std::move(result));
            } catch (const std::exception& e) {
                log::get("net")->error("client callback threw: {}", e.what());
            }
        }
        arm_idle();
    }

    void fail_all(ErrorCode code, const std::string& message) {
        unsent.clear();
        std::vector<std::uint64_t> ids;
        for (auto& [id, p] : pending) ids.push_back(id);
        for (auto id : ids) finish(id, Error{code, message});
    }

    void arm_idle() {
        if (!idle_timer || state != State::connected) return;
        if (!pending.empty()) {
            idle_timer->stop();
            return;
        }
        std::weak_ptr<Core> weak = weak_from_this();
        idle_timer->start(opts.idle_timeout_ms, 0, [weak] {
            if (auto c = weak.lock(); c && c->pending.empty()) c->drop_connection();
        });
    }

    void drop_connection() {
        if (connect_timer) connect_timer->stop();
        if (!conn) return;
        ClientConn* c = conn;
        conn = nullptr;
        state = State::idle;
        c->dead = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) { delete static_cast<ClientConn*>(h->data); });
    }

    void connect() {
        auto self = shared_from_this();
        sockaddr_storage addr{};
        if (uv_ip4_addr(server.host.c_str(), server.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
            uv_ip6_addr(server.host.c_str(), server.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
            fail_all(ErrorCode::unreachable, "bad address " + server.to_string());
            return;
        }
        auto* c = new ClientConn(self, opts.max_frame_bytes);
        uv_tcp_init(loop, &c->tcp);
        c->tcp.data = c;
        c->connect.data = c;
        conn = c;
        state = State::connecting;
        if (!connect_timer) connect_timer = std::make_unique<Timer>(loop);
        std::weak_ptr<Core> weak = self;
        connect_timer->start(opts.connect_timeout_ms, 0, [weak] {
            auto core = weak.lock();
            if (!core || core->state != State::connecting) return;
            core->drop_connection();
            core->fail_all(ErrorCode::unreachable, "connect to " + core->server.to_string() + " timed out");
        });
        int rc = uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const sockaddr*>(&addr), [](uv_connect_t* req, int status) {
            auto* cc = static_cast<ClientConn*>(req->data);
            if (cc->dead) return;
            auto core = cc->core;
            core->connect_timer->stop();
            if (status < 0) {
                core->drop_connection();
                core->fail_all(ErrorCode::unreachable,
                               "cannot connect to " + core->server.to_string() + ": " + uv_strerror(status));
                return;
            }
            core->on_connected();
        });
        if (rc != 0) {
            drop_connection();
            fail_all(ErrorCode::unreachable, "cannot connect to " + server.to_string() + ": " + uv_strerror(rc));
        }
    }

    void on_connected() {
        state = State::connected;
        uv_tcp_nodelay(&conn->tcp, 1);
        if (!idle_timer) idle_timer = std::make_unique<Timer>(loop);
        uv_read_start(
            reinterpret_cast<uv_stream_t*>(&conn->tcp),
            [](uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
                buf->base = new char[suggested];
                buf->len = suggested;
            },
            [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                std::unique_ptr<char[]> owned(buf->base);
                auto* c = static_cast<ClientConn*>(s->data);
                if (c->dead) return;
                auto core = c->core;
                if (n < 0) {
                    core->drop_connection();
                    core->fail_all(ErrorCode::closed, "connection to " + core->server.to_string() + " closed");
                    return;
                }
                core->on_bytes(c, reinterpret_cast<const std::uint8_t*>(buf->base), static_cast<std::size_t>(n));
            });
        while (!unsent.empty() && state == State::connected) {
            auto [id, body] = std::move(unsent.front());
            unsent.pop_front();
            send(id, std::move(body));
        }
    }

    void on_bytes(ClientConn* c, const std::uint8_t* data, std::size_t n) {
        c->decoder.feed(data, n);
        while (!c->dead) {
            auto f = c->decoder.next();
            if (!f) break;
            if (f->status == FrameStatus::ok) {
                finish(f->id, std::move(f->payload));
            } else {
                finish(f->id, Error{ErrorCode::handler_failed, std::string(f->payload.begin(), f->payload.end())});
            }
        }
        if (!c->dead && !c->decoder.error().empty()) {
            auto message = "bad reply stream from " + server.to_string() + ": " + c->decoder.error();
            auto code = message.find("exceeds") != std::string::npos ? ErrorCode::too_large : ErrorCode::bad_input;
            drop_connection();
            fail_all(code, message);
        }
    }

    void send(std::uint64_t id, Bytes body) {
        auto* w = new ClientWrite;
        w->data = encode_frame(Frame{id, FrameStatus::ok, std::move(body)});
        w->req.data = w;
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.data()), static_cast<unsigned>(w->data.size()));
        int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&conn->tcp), &buf, 1,
                          [](uv_write_t* r, int) { delete static_cast<ClientWrite*>(r->data); });
        if (rc != 0) {
            delete w;
            drop_connection();
            fail_all(ErrorCode::closed, std::string("write failed: ") + uv_strerror(rc));
        }
    }
};

Client::Client(uv_loop_t* loop, Endpoint server, ClientOptions options) : core_(std::make_shared<Core>()) {
    core_->loop = loop;
    core_->server = std::move(server);
    core_->opts = options;
}

Client::~Client() {
    core_->dropped = true;
    core_->pending.clear();
    core_->unsent.clear();
    core_->drop_connection();
    core_->connect_timer.reset();
    core_->idle_timer.reset();
}

void Client::request(Bytes body, std::uint64_t timeout_ms, Done done) {
    auto core = core_;
    if (body.size() > core->opts.max_frame_bytes) {
        done(Error{ErrorCode::too_large, "request of " + std::to_string(body.size()) + " bytes exceeds the frame limit"});
        return;
    }
    std::uint64_t id = core->next_id++;
    auto& p = core->pending[id];
    p.done = std::move(done);
    p.timer = std::make_unique<Timer>(core->loop);
    std::weak_ptr<Core> weak = core;
    p.timer->start(timeout_ms, 0, [weak, id] {
        auto c = weak.lock();
        if (!c) return;
        std::erase_if(c->unsent, [id](const auto& u) { return u.first == id; });
        c->finish(id, Error{ErrorCode::timeout, "no reply from " + c->server.to_string() + " in time"});
    });
    if (core->idle_timer) core->idle_timer->stop();
    switch (core->state) {
        case Core::State::connected: core->send(id, std::move(body)); break;
        case Core::State::connecting: core->unsent.emplace_back(id, std::move(body)); break;
        case Core::State::idle:
            core->unsent.emplace_back(id, std::move(body));
            core->connect();
            break;
    }
}

void Client::close() {
    core_->drop_connection();
    core_->fail_all(ErrorCode::closed, "client closed");
}

const Endpoint& Client::server() const { return core_->server; }

}  // namespace veil::sdk::net
