// The metrics endpoint and its one-shot scrape (metrics_http.hpp): raw libuv TCP, one request a
// connection, every answer closes it.
#include "veil/sdk/metrics_http.hpp"

#include <cstring>
#include <set>

namespace veil::sdk::metrics {

namespace {

bool is_token_char(char c) { return c > ' ' && c < 0x7f; }

const char* status_line(Ask a) {
    switch (a) {
    case Ask::metrics: return "200 OK";
    case Ask::not_found: return "404 Not Found";
    case Ask::bad_method: return "405 Method Not Allowed";
    case Ask::too_large: return "431 Request Header Fields Too Large";
    default: return "400 Bad Request";
    }
}

std::string answer(Ask a, std::string_view body) {
    std::string out = std::string("HTTP/1.1 ") + status_line(a) + "\r\n";
    out += a == Ask::metrics ? "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n" : "Content-Type: text/plain\r\n";
    if (a == Ask::bad_method) out += "Allow: GET\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    out += body;
    return out;
}

bool parse_address(const net::Endpoint& at, sockaddr_storage& addr) {
    return uv_ip4_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
           uv_ip6_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0;
}

}  // namespace

Ask read_request(std::string_view head) {
    auto eol = head.find('\n');
    if (eol == std::string_view::npos) return head.size() >= kMaxRequestBytes ? Ask::too_large : Ask::need_more;
    auto line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // METHOD SP TARGET SP HTTP/1.x, each a run of visible characters.
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return Ask::bad_request;
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return Ask::bad_request;
    auto method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1), version = line.substr(sp2 + 1);
    for (auto part : {method, target, version}) {
        if (part.empty()) return Ask::bad_request;
        for (char c : part)
            if (!is_token_char(c)) return Ask::bad_request;
    }
    if (version != "HTTP/1.0" && version != "HTTP/1.1") return Ask::bad_request;
    if (method != "GET") return Ask::bad_method;
    if (target != "/metrics") return Ask::not_found;
    // The head ends with an empty line; what the headers say does not matter.
    if (head.find("\r\n\r\n") != std::string_view::npos || head.find("\n\n") != std::string_view::npos) return Ask::metrics;
    return head.size() >= kMaxRequestBytes ? Ask::too_large : Ask::need_more;
}

// ---- the endpoint --------------------------------------------------------------------------

namespace {

// One scraper's connection. Freed when both its handles have closed.
struct Conn {
    uv_tcp_t tcp{};
    uv_timer_t timer{};
    HttpEndpoint::Impl* owner = nullptr;  // null once the endpoint is gone
    std::string head;
    std::string out;  // the answer, kept until written
    uv_write_t write{};
    uv_shutdown_t shutdown{};
    bool deciding = true;  // still reading the head
    bool peer_closed = false;  // the scraper ended its side before the answer went out
    int open_handles = 2;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    char buf[1024];
};

void on_conn_handle_closed(uv_handle_t* h) {
    auto* c = static_cast<Conn*>(h->data);
    if (--c->open_handles == 0) delete c;
}

}  // namespace

struct HttpEndpoint::Impl {
    uv_loop_t* loop;
    HttpOptions options;
    Collector collect;
    uv_tcp_t* listener = nullptr;
    std::set<Conn*> conns;
    HttpStats stats;

    void close_conn(Conn* c) {
        if (!*c->alive) return;
        *c->alive = false;
        conns.erase(c);
        c->owner = nullptr;
        uv_timer_stop(&c->timer);
        uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_conn_handle_closed);
        uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_conn_handle_closed);
    }

    void send(Conn* c, std::string text) {
        c->out = std::move(text);
        uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
        // Once written, the end is signalled and what the scraper still sends is drained until it
        // closes (or the deadline): closing with unread bytes would reset the connection and
        // could lose the answer on its way.
        if (uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1, [](uv_write_t* w, int status) {
                auto* conn = static_cast<Conn*>(w->data);
                if (!conn->owner) return;
                conn->shutdown.data = conn;
                if (status != 0 || conn->peer_closed || uv_shutdown(&conn->shutdown, reinterpret_cast<uv_stream_t*>(&conn->tcp), [](uv_shutdown_t*, int) {}) != 0)
                    conn->owner->close_conn(conn);
            }) != 0)
            close_conn(c);
    }

    void decide(Conn* c, Ask a) {
        c->deciding = false;
        c->write.data = c;
        if (a != Ask::metrics) {
            ++stats.refused;
            return send(c, answer(a, std::string(status_line(a)) + "\n"));
        }
        ++stats.served;
        collect([c, alive = c->alive](std::string body) {
            if (*alive && c->owner) c->owner->send(c, answer(Ask::metrics, body));
        });
    }

    void accept() {
        auto* c = new Conn;
        c->owner = this;
        c->tcp.data = c->timer.data = c;
        uv_tcp_init(loop, &c->tcp);
        uv_timer_init(loop, &c->timer);
        conns.insert(c);
        if (uv_accept(reinterpret_cast<uv_stream_t*>(listener), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0 ||
            conns.size() > options.max_connections) {
            ++stats.turned_away;
            return close_conn(c);
        }
        uv_timer_start(&c->timer, [](uv_timer_t* t) {
            auto* conn = static_cast<Conn*>(t->data);
            if (!conn->owner) return;
            ++conn->owner->stats.timed_out;
            conn->owner->close_conn(conn);
        }, options.deadline_ms, 0);
        uv_read_start(
            reinterpret_cast<uv_stream_t*>(&c->tcp),
            [](uv_handle_t* h, std::size_t, uv_buf_t* b) {
                auto* conn = static_cast<Conn*>(h->data);
                *b = uv_buf_init(conn->buf, sizeof conn->buf);
            },
            [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
                auto* conn = static_cast<Conn*>(s->data);
                if (!conn->owner) return;
                if (n == UV_EOF && !conn->deciding && conn->out.empty()) {
                    // Half-closed after its request: the answer still goes out, then the close.
                    conn->peer_closed = true;
                    uv_read_stop(s);
                    return;
                }
                if (n < 0) return conn->owner->close_conn(conn);
                if (!conn->deciding) return;  // drained
                // Never more than the bound is kept: past it the head is too large anyway.
                auto room = kMaxRequestBytes - conn->head.size();
                conn->head.append(conn->buf, std::min<std::size_t>(static_cast<std::size_t>(n), room));
                auto a = read_request(conn->head);
                if (a != Ask::need_more) conn->owner->decide(conn, a);
            });
    }

    void close_all() {
        while (!conns.empty()) close_conn(*conns.begin());
        if (listener) {
            uv_close(reinterpret_cast<uv_handle_t*>(listener), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
            listener = nullptr;
        }
    }
};

HttpEndpoint::HttpEndpoint(uv_loop_t* loop, HttpOptions options, Collector collect)
    : impl_(std::make_shared<Impl>(Impl{loop, options, std::move(collect), nullptr, {}, {}})) {}

HttpEndpoint::~HttpEndpoint() { close(); }

void HttpEndpoint::close() { impl_->close_all(); }

HttpStats HttpEndpoint::stats() const { return impl_->stats; }

std::size_t HttpEndpoint::connections() const { return impl_->conns.size(); }

Result<net::Endpoint> HttpEndpoint::listen(const net::Endpoint& at) {
    sockaddr_storage addr{};
    if (!parse_address(at, addr)) return Error{ErrorCode::bad_input, "metrics: not an IP address: " + at.host};
    close();
    impl_->listener = new uv_tcp_t;
    uv_tcp_init(impl_->loop, impl_->listener);
    impl_->listener->data = impl_.get();
    auto fail = [&](int rc) -> Result<net::Endpoint> {
        close();
        return Error{ErrorCode::io, "metrics: cannot listen on " + at.to_string() + ": " + uv_strerror(rc)};
    };
    if (int rc = uv_tcp_bind(impl_->listener, reinterpret_cast<const sockaddr*>(&addr), 0); rc != 0) return fail(rc);
    if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(impl_->listener), 16, [](uv_stream_t* s, int status) {
            if (status == 0) static_cast<Impl*>(s->data)->accept();
        });
        rc != 0)
        return fail(rc);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(impl_->listener, reinterpret_cast<sockaddr*>(&bound), &len);
    auto port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return net::Endpoint{at.host, port};
}

// ---- the scrape ----------------------------------------------------------------------------

namespace {

struct Scrape {
    uv_tcp_t tcp{};
    uv_timer_t timer{};
    uv_connect_t connect{};
    uv_write_t write{};
    std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    std::string in;
    std::function<void(Result<std::string>)> done;
    int open_handles = 2;
    char buf[16384];

    void finish(Result<std::string> r) {
        if (!done) return;
        auto d = std::move(done);
        done = nullptr;
        uv_timer_stop(&timer);
        auto closed = [](uv_handle_t* h) {
            auto* s = static_cast<Scrape*>(h->data);
            if (--s->open_handles == 0) delete s;
        };
        uv_close(reinterpret_cast<uv_handle_t*>(&timer), closed);
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp), closed);
        d(std::move(r));
    }

    // The whole answer read: the body of a 200, or the status line as the error.
    Result<std::string> body() const {
        auto end = in.find("\r\n\r\n");
        auto eol = in.find("\r\n");
        if (end == std::string::npos || in.compare(0, 7, "HTTP/1.") != 0)
            return Error{ErrorCode::bad_input, "metrics: the answer is not HTTP"};
        auto status = in.substr(0, eol);
        if (status.size() < 12 || status.compare(9, 3, "200") != 0)
            return Error{ErrorCode::refused, "metrics: the endpoint answered " + status.substr(std::min<std::size_t>(9, status.size()))};
        return in.substr(end + 4);
    }
};

}  // namespace

void scrape(uv_loop_t* loop, const net::Endpoint& at, std::uint64_t timeout_ms, std::function<void(Result<std::string>)> done) {
    sockaddr_storage addr{};
    if (!parse_address(at, addr)) return done(Error{ErrorCode::bad_input, "metrics: not an IP address: " + at.host});
    auto* s = new Scrape;
    s->done = std::move(done);
    s->tcp.data = s->timer.data = s->connect.data = s->write.data = s;
    uv_tcp_init(loop, &s->tcp);
    uv_timer_init(loop, &s->timer);
    uv_timer_start(&s->timer, [](uv_timer_t* t) {
        static_cast<Scrape*>(t->data)->finish(Error{ErrorCode::timeout, "metrics: no answer in time"});
    }, timeout_ms, 0);
    int rc = uv_tcp_connect(&s->connect, &s->tcp, reinterpret_cast<const sockaddr*>(&addr), [](uv_connect_t* c, int status) {
        auto* sc = static_cast<Scrape*>(c->data);
        if (!sc->done) return;
        if (status != 0) return sc->finish(Error{ErrorCode::unreachable, std::string("metrics: cannot connect: ") + uv_strerror(status)});
        uv_buf_t b = uv_buf_init(sc->request.data(), static_cast<unsigned>(sc->request.size()));
        uv_write(&sc->write, reinterpret_cast<uv_stream_t*>(&sc->tcp), &b, 1, [](uv_write_t*, int) {});
        uv_read_start(
            reinterpret_cast<uv_stream_t*>(&sc->tcp),
            [](uv_handle_t* h, std::size_t, uv_buf_t* out) {
                auto* me = static_cast<Scrape*>(h->data);
                *out = uv_buf_init(me->buf, sizeof me->buf);
            },
            [](uv_stream_t* st, ssize_t n, const uv_buf_t*) {
                auto* me = static_cast<Scrape*>(st->data);
                if (!me->done) return;
                if (n == UV_EOF) return me->finish(me->body());
                if (n < 0) return me->finish(Error{ErrorCode::closed, "metrics: connection lost"});
                me->in.append(me->buf, static_cast<std::size_t>(n));
                if (me->in.size() > kMaxScrapeBytes) me->finish(Error{ErrorCode::too_large, "metrics: answer over 4 MiB"});
            });
    });
    if (rc != 0) s->finish(Error{ErrorCode::unreachable, std::string("metrics: cannot connect: ") + uv_strerror(rc)});
}

}  // namespace veil::sdk::metrics
