// Framed TCP server: one Conn per accepted socket, replies matched by request id.
#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "veil/sdk/log.hpp"
#include "veil/sdk/net.hpp"

namespace veil::sdk::net {

namespace {
struct Conn;
}

struct Server::Core : std::enable_shared_from_this<Server::Core> {
    uv_loop_t* loop = nullptr;
    ServerOptions opts;
    Handler handler;
    std::shared_ptr<spdlog::logger> log = log::get("net");
    uv_tcp_t* listener = nullptr;
    std::uint64_t next_conn_id = 1;
    uv_async_t* async = nullptr;
    uv_thread_t loop_thread{};
    bool closed = false;
    std::unordered_map<Conn*, std::shared_ptr<Conn>> conns;
    std::unordered_map<std::uint64_t, Conn*> by_id;  // open connections by conn_id
    std::unordered_map<std::string, std::size_t> per_source;  // open connections by source
    std::unordered_map<std::string, std::size_t> per_group;   // open connections by group
    std::unordered_map<std::string, std::size_t> held_per_group;  // connections with a held wait, by group
    std::size_t held_total = 0;                                   // connections with a held wait, all groups
    ServerStats stats;

    // Replies answered on other threads, posted to the loop.
    std::mutex mu;
    std::deque<std::function<void()>> posted;

    void accept();
    bool make_room(const std::string& group);
    void enforce_budget();
    void close_all();
    void post(std::function<void()> fn);
};

struct Reply::Slot {
    std::weak_ptr<Conn> conn;
    std::weak_ptr<Server::Core> core;
    std::uint64_t id = 0;
    std::uint64_t conn_id = 0;
    std::string source;
    std::atomic<bool> answered{false};
    void send(FrameStatus status, Bytes payload);
    ~Slot() {
        if (!answered.exchange(true)) send(FrameStatus::error, {'n', 'o', ' ', 'r', 'e', 'p', 'l', 'y'});
    }
};

namespace {

struct WriteReq {
    uv_write_t req{};
    Bytes data;
    std::shared_ptr<Conn> conn;
};

struct Conn : std::enable_shared_from_this<Conn> {
    uv_tcp_t tcp{};
    uv_timer_t idle{};
    std::shared_ptr<Server::Core> core;
    FrameDecoder decoder;
    std::uint64_t conn_id = 0;  // Reply::connection_id()
    std::string source;         // IPv4 address or IPv6 /64 (fair sharing of slots)
    std::string group;          // IPv4 /24 or IPv6 /48
    std::size_t in_flight = 0;
    std::size_t yielding = 0;  // of in_flight: marked Server::set_yielding
    std::size_t held = 0;      // of in_flight: marked Server::hold
    std::size_t write_bytes = 0;
    std::size_t memory = 0;              // decoder memory counted in core->stats
    std::uint64_t last_activity_ms = 0;  // accept, a complete frame, or a reply
    std::uint64_t frame_started_ms = 0;  // first byte of the pending partial frame (0: none)
    bool reading = false;
    bool closing = false;
    bool pumping = false;
    int handles_open = 2;
    std::shared_ptr<Conn> self;  // keeps the Conn alive until both handles are closed

    explicit Conn(std::shared_ptr<Server::Core> c)
        : core(std::move(c)), decoder(core->opts.max_frame_bytes, core->opts.frame_limit) {}

    uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&tcp); }
    std::uint64_t now() const { return uv_now(core->loop); }

    static void forget(std::unordered_map<std::string, std::size_t>& counts, const std::string& key) {
        auto it = counts.find(key);
        if (it != counts.end() && --it->second == 0) counts.erase(it);
    }

    // Nothing asked of us is pending: closing it loses no request.
    bool idle_now() const { return in_flight == 0 && write_bytes == 0; }
    // Idle, or waiting only on requests that may be cut (Server::set_yielding).
    bool may_yield() const { return in_flight <= yielding && write_bytes == 0; }

    // One timer for both deadlines, computed from fixed instants: a byte never postpones them.
    void arm() {
        if (closing) return;
        std::uint64_t due = last_activity_ms + core->opts.idle_timeout_ms;
        if (frame_started_ms) due = std::min(due, frame_started_ms + core->opts.frame_deadline_ms);
        std::uint64_t t = now();
        uv_timer_start(&idle, [](uv_timer_t* h) { static_cast<Conn*>(h->data)->on_timer(); }, due > t ? due - t : 0, 0);
    }

    void on_timer() {
        std::uint64_t t = now();
        if (frame_started_ms && t >= frame_started_ms + core->opts.frame_deadline_ms) {
            ++core->stats.late_frames;
            return close();
        }
        if (t >= last_activity_ms + core->opts.idle_timeout_ms) {
            if (idle_now()) {
                ++core->stats.idle_closed;
                return close();
            }
            last_activity_ms = t;  // waiting on us, not on the client
        }
        arm();
    }

    // The frame clock runs only while we read: under backpressure the wait is ours.
    void update_frame_clock(bool completed_any) {
        if (!reading || decoder.pending() == 0) {
            frame_started_ms = 0;
        } else if (completed_any || frame_started_ms == 0) {
            frame_started_ms = now();
        }
        arm();
    }

    void account() {
        std::size_t m = closing ? 0 : decoder.memory();
        core->stats.partial_frame_bytes = core->stats.partial_frame_bytes - memory + m;
        memory = m;
    }

    bool over_limits() const {
        return in_flight >= core->opts.max_in_flight || write_bytes >= core->opts.max_write_queue_bytes;
    }

    void start_reading() {
        if (reading || closing) return;
        reading = true;
        uv_read_start(
            reinterpret_cast<uv_stream_t*>(&tcp),
            [](uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
                buf->base = new char[suggested];
                buf->len = suggested;
            },
            [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                std::unique_ptr<char[]> owned(buf->base);
                auto* c = static_cast<Conn*>(s->data);
                if (n < 0) {
                    c->close();
                    return;
                }
                if (n > 0) c->on_bytes(reinterpret_cast<const std::uint8_t*>(buf->base), static_cast<std::size_t>(n));
            });
    }

    void stop_reading() {
        if (!reading) return;
        reading = false;
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    }

    void on_bytes(const std::uint8_t* data, std::size_t n) {
        auto keep = shared_from_this();
        decoder.feed(data, n);
        bool completed = pump();
        if (closing) return;
        update_frame_clock(completed);
        account();
        core->enforce_budget();
    }

    // Dispatches buffered frames while under the limits; stops reading above them
    // (backpressure: the rest waits in the decoder and the socket until replies drain).
    // Returns whether a frame completed.
    bool pump() {
        if (pumping || closing) return false;
        pumping = true;
        bool completed = false;
        auto keep = shared_from_this();
        while (!closing && !over_limits()) {
            auto frame = decoder.next();
            if (!frame) break;
            completed = true;
            last_activity_ms = now();
            if (frame->status != FrameStatus::ok) continue;  // clients send only ok frames
            ++in_flight;
            auto slot = std::make_shared<Reply::Slot>();
            slot->conn = weak_from_this();
            slot->core = core;
            slot->id = frame->id;
            slot->conn_id = conn_id;
            slot->source = source;
            try {
                core->handler(std::move(frame->payload), Reply(slot));
            } catch (const std::exception& e) {
                core->log->error("request handler threw: {}", e.what());
                Reply(slot).fail("internal error");
            } catch (...) {
                core->log->error("request handler threw a non-standard exception");
                Reply(slot).fail("internal error");
            }
        }
        pumping = false;
        if (closing) return completed;
        if (!decoder.error().empty()) {
            core->log->debug("closing connection: {}", decoder.error());
            ++core->stats.refused_frames;
            close();
            return completed;
        }
        if (over_limits()) {
            stop_reading();
        } else {
            start_reading();
        }
        return completed;
    }

    void write(FrameStatus status, std::uint64_t id, Bytes payload) {
        if (in_flight > 0) --in_flight;
        if (closing) return;
        last_activity_ms = now();
        auto* w = new WriteReq;
        w->data = encode_frame(Frame{id, status, std::move(payload)});
        w->conn = shared_from_this();
        w->req.data = w;
        write_bytes += w->data.size();
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.data()), static_cast<unsigned>(w->data.size()));
        int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1, [](uv_write_t* r, int result) {
            std::unique_ptr<WriteReq> req(static_cast<WriteReq*>(r->data));
            auto& c = *req->conn;
            c.write_bytes -= req->data.size();
            if (result < 0) {
                c.close();
                return;
            }
            if (c.closing) return;
            bool completed = c.pump();
            if (!c.closing) c.update_frame_clock(completed);
        });
        if (rc != 0) {
            write_bytes -= w->data.size();
            delete w;
            close();
        }
    }

    void close() {
        if (closing) return;
        closing = true;
        reading = false;
        account();
        if (!source.empty()) {
            forget(core->per_source, source);
            forget(core->per_group, group);
        }
        if (held > 0) {
            forget(core->held_per_group, group);
            --core->held_total;
        }
        core->conns.erase(this);
        core->by_id.erase(conn_id);
        auto done = [](uv_handle_t* h) {
            auto* c = static_cast<Conn*>(h->data);
            if (--c->handles_open == 0) c->self.reset();  // may delete c
        };
        uv_timer_stop(&idle);
        uv_close(reinterpret_cast<uv_handle_t*>(&idle), done);
        uv_close(handle(), done);
    }
};

}  // namespace

void Reply::Slot::send(FrameStatus status, Bytes payload) {
    auto c = core.lock();
    if (!c) return;
    uv_thread_t self = uv_thread_self();
    if (uv_thread_equal(&self, &c->loop_thread)) {
        if (auto target = conn.lock()) target->write(status, id, std::move(payload));
        return;
    }
    c->post([weak = this->conn, id = id, status, p = std::move(payload)]() mutable {
        if (auto target = weak.lock()) target->write(status, id, std::move(p));
    });
}

void Reply::reply(Bytes body) const {
    if (slot_->answered.exchange(true)) return;
    slot_->send(FrameStatus::ok, std::move(body));
}

std::uint64_t Reply::connection_id() const { return slot_->conn_id; }

const std::string& Reply::source() const { return slot_->source; }

void Reply::fail(std::string_view message) const {
    if (slot_->answered.exchange(true)) return;
    slot_->send(FrameStatus::error, Bytes(message.begin(), message.end()));
}

void Server::Core::post(std::function<void()> fn) {
    std::lock_guard lock(mu);
    if (closed || !async) return;
    posted.push_back(std::move(fn));
    uv_async_send(async);
}

namespace {

struct Origin {
    std::string source;  // the unit of the per-source cap
    std::string group;   // the unit of the per-group cap and of eviction
};

std::string bytes(const unsigned char* p, std::size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

// The unit of fair sharing: an IPv4 address, or the /64 of an IPv6 one (one host's usual share);
// grouped by IPv4 /24 or IPv6 /48 (one site's usual assignment, RFC 6177), so many addresses
// of one network share one group's cap. Loopback peers apart per connection when asked (testnets).
Origin origin_of(const uv_tcp_t* tcp, bool loopback_per_connection) {
    sockaddr_storage peer{};
    int len = sizeof peer;
    if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return {"?", "?"};
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static constexpr unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const unsigned char* v4 = nullptr;
    const unsigned char* v6 = nullptr;
    std::uint16_t port = 0;
    if (peer.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);
        v4 = reinterpret_cast<const unsigned char*>(&a->sin_addr);
        port = a->sin_port;
    } else {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&peer);
        v6 = reinterpret_cast<const unsigned char*>(&a->sin6_addr);
        port = a->sin6_port;
        if (std::memcmp(v6, kMapped, 12) == 0) v4 = v6 + 12;
    }
    bool loopback = v4 ? v4[0] == 127 : std::memcmp(v6, kLoopback6, 16) == 0;
    if (loopback && loopback_per_connection) {
        std::string key = "L" + (v4 ? bytes(v4, 4) : bytes(v6, 16)) + std::to_string(port);
        return {key, key};
    }
    if (v4) return {bytes(v4, 4), "4" + bytes(v4, 3)};
    return {bytes(v6, 8), "6" + bytes(v6, 6)};
}

}  // namespace

// Full: an idle connection of the group holding the most gives way, if that group holds more than
// `group` would. So a newcomer gets a slot unless every group holds about as many, and a
// connection with a request in flight (a long-poll, say) is never cut for a newcomer, unless all
// it waits on yields (an unsigned long-poll: anyone could pin slots with those).
bool Server::Core::make_room(const std::string& group) {
    auto mine = per_group.count(group) ? per_group[group] : 0;
    Conn* victim = nullptr;
    std::size_t victim_group = 0;
    for (auto& [p, c] : conns) {
        if (c->closing || !c->may_yield()) continue;
        auto held = per_group[c->group];
        if (held <= mine + 1) continue;
        if (!victim || held > victim_group || (held == victim_group && c->last_activity_ms < victim->last_activity_ms)) {
            victim = p;
            victim_group = held;
        }
    }
    if (!victim) return false;
    ++stats.evicted_when_full;
    victim->close();
    return true;
}

// Over the partial-frame budget: close the connections holding the largest buffers.
void Server::Core::enforce_budget() {
    while (stats.partial_frame_bytes > opts.partial_frame_budget) {
        Conn* largest = nullptr;
        for (auto& [p, c] : conns)
            if (!largest || c->memory > largest->memory) largest = p;
        if (!largest || largest->memory == 0) return;
        ++stats.over_budget;
        largest->close();
    }
}

void Server::Core::accept() {
    auto conn = std::make_shared<Conn>(shared_from_this());
    conn->conn_id = next_conn_id++;
    uv_tcp_init(loop, &conn->tcp);
    uv_timer_init(loop, &conn->idle);
    conn->tcp.data = conn.get();
    conn->idle.data = conn.get();
    conn->self = conn;
    bool accepted = uv_accept(reinterpret_cast<uv_stream_t*>(listener), reinterpret_cast<uv_stream_t*>(&conn->tcp)) == 0;
    Origin origin = accepted ? origin_of(&conn->tcp, opts.loopback_per_connection) : Origin{};
    if (accepted && per_source.count(origin.source) && per_source[origin.source] >= opts.max_connections_per_source) {
        ++stats.refused_per_source;
        accepted = false;
    }
    if (accepted && per_group.count(origin.group) && per_group[origin.group] >= opts.max_connections_per_group) {
        ++stats.refused_per_group;
        accepted = false;
    }
    if (accepted && conns.size() >= opts.max_connections && !make_room(origin.group)) {
        ++stats.refused_when_full;
        log->warn("connection refused: {} connections open", conns.size());
        accepted = false;
    }
    conns.emplace(conn.get(), conn);
    if (!accepted) {
        conn->close();
        return;
    }
    by_id.emplace(conn->conn_id, conn.get());
    conn->source = std::move(origin.source);
    conn->group = std::move(origin.group);
    ++per_source[conn->source];
    ++per_group[conn->group];
    uv_tcp_nodelay(&conn->tcp, 1);
    conn->last_activity_ms = uv_now(loop);
    conn->start_reading();
    conn->arm();
}

void Server::Core::close_all() {
    {
        std::lock_guard lock(mu);
        if (closed) return;
        closed = true;
        posted.clear();
    }
    auto copy = conns;
    for (auto& [p, c] : copy) c->close();
    if (listener) {
        uv_close(reinterpret_cast<uv_handle_t*>(listener), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
        listener = nullptr;
    }
    if (async) {
        uv_close(reinterpret_cast<uv_handle_t*>(async), [](uv_handle_t* h) {
            delete static_cast<std::shared_ptr<Server::Core>*>(h->data);
            delete reinterpret_cast<uv_async_t*>(h);
        });
        async = nullptr;
    }
    handler = nullptr;  // release the owner's closure now
}

Server::Server(uv_loop_t* loop, ServerOptions options, Handler handler) : core_(std::make_shared<Core>()) {
    core_->loop = loop;
    core_->opts = options;
    core_->handler = std::move(handler);
    core_->loop_thread = uv_thread_self();
    core_->async = new uv_async_t;
    core_->async->data = new std::shared_ptr<Core>(core_);
    uv_async_init(loop, core_->async, [](uv_async_t* a) {
        auto core = *static_cast<std::shared_ptr<Core>*>(a->data);
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard lock(core->mu);
            batch.swap(core->posted);
        }
        for (auto& fn : batch) fn();
    });
    uv_unref(reinterpret_cast<uv_handle_t*>(core_->async));
}

Server::~Server() { close(); }

Result<Endpoint> Server::listen(const Endpoint& at) {
    if (core_->closed || core_->listener) return Error{ErrorCode::internal, "server already listening or closed"};
    sockaddr_storage addr{};
    if (uv_ip4_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
        return Error{ErrorCode::bad_input, "'" + at.host + "' is not a numeric address"};
    }
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(core_->loop, tcp);
    tcp->data = core_.get();
    auto fail = [&](int rc) {
        uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
        return Result<Endpoint>(ErrorCode::io, "cannot listen on " + at.to_string() + ": " + uv_strerror(rc));
    };
    if (int rc = uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&addr), 0); rc != 0) return fail(rc);
    if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), 128, [](uv_stream_t* s, int status) {
            if (status == 0) static_cast<Core*>(s->data)->accept();
        });
        rc != 0) {
        return fail(rc);
    }
    core_->listener = tcp;
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    Endpoint out{at.host, 0};
    if (bound.ss_family == AF_INET6) {
        out.port = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    } else {
        out.port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    return out;
}

void Server::close() { core_->close_all(); }

std::size_t Server::connections() const { return core_->conns.size(); }

ServerStats Server::stats() const { return core_->stats; }

void Server::set_yielding(std::uint64_t connection, bool yielding) {
    auto it = core_->by_id.find(connection);
    if (it == core_->by_id.end()) return;
    auto& n = it->second->yielding;
    if (yielding) ++n;
    else if (n > 0) --n;
}

bool Server::hold(std::uint64_t connection) {
    auto it = core_->by_id.find(connection);
    if (it == core_->by_id.end()) return false;
    auto& c = *it->second;
    if (c.held == 0) {
        // The node-wide limit first: groups are cheap (IPv6 /48s), so per-group shares alone
        // would let a few of them pin every slot.
        if (core_->held_total >= core_->opts.max_held) return false;
        auto& n = core_->held_per_group[c.group];
        if (n >= core_->opts.max_held_per_group) return false;
        ++n;
        ++core_->held_total;
    }
    ++c.held;
    return true;
}

void Server::unhold(std::uint64_t connection) {
    auto it = core_->by_id.find(connection);
    if (it == core_->by_id.end() || it->second->held == 0) return;
    if (--it->second->held == 0) {
        Conn::forget(core_->held_per_group, it->second->group);
        --core_->held_total;
    }
}

}  // namespace veil::sdk::net
