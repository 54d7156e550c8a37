#include "veil/sdk/bus.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "veil/sdk/log.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::sdk {

namespace {
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

std::string route_key(std::string_view topic, std::string_view route) {
    std::string key(topic);
    if (!route.empty()) {
        key += '#';
        key += route;
    }
    return key;
}
}  // namespace

namespace detail {

struct Envelope {
    enum class Kind : std::uint8_t { publish = 1, request, reply };
    Kind kind = Kind::publish;
    std::string_view topic;                // publish: the struct's static topic
    std::string key;                       // request: topic#route
    std::shared_ptr<const void> payload;   // publish / request body
    std::uint64_t id = 0;                  // request / reply id
    std::uint32_t timeout_ms = 0;
    Bus::RawDone done;                     // request
    std::shared_ptr<void> reply;           // reply (null with error)
    Error error;
    bool failed = false;
};

// One per request; answered once. Its destructor answers "abandoned" if nobody did.
struct ReplySlot {
    ReplySlot(std::weak_ptr<BusCore> c, std::uint64_t i) : core(std::move(c)), id(i) {}
    ~ReplySlot();
    ReplySlot(const ReplySlot&) = delete;
    ReplySlot& operator=(const ReplySlot&) = delete;
    std::weak_ptr<BusCore> core;
    std::uint64_t id;
    std::atomic<bool> answered{false};
};

struct BusCore : std::enable_shared_from_this<BusCore> {
    struct Sub {
        Bus::RawHandler handler;
        bool alive = true;
    };
    struct Pending {
        Bus::RawDone done;
        std::unique_ptr<Timer> timer;
    };

    uv_loop_t* loop = nullptr;
    uv_async_t* async = nullptr;
    // Envelopes queued on the loop thread are delivered in the same loop iteration: a check
    // handle drains after the I/O callbacks, and an idle handle keeps that iteration's poll
    // from blocking. No eventfd write and wake-up per hop (a node request crosses the bus
    // twice). Other threads still wake the loop through `async`.
    uv_check_t* check = nullptr;
    uv_idle_t* idle = nullptr;
    bool check_armed = false;  // loop thread only
    uv_thread_t loop_thread{};
    BusOptions options;
    std::shared_ptr<spdlog::logger> log = log::get("bus");

    // Shared with other threads.
    std::mutex mu;
    std::condition_variable space;
    std::deque<Envelope> queue;
    std::size_t counted = 0;  // publish + request envelopes in queue (replies are not bounded)
    bool closed = false;
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::uint64_t> delivered{0}, dropped_full{0}, handler_errors{0};

    // Loop thread only.
    std::unordered_map<std::string, std::vector<std::shared_ptr<Sub>>, StringHash, std::equal_to<>> subs;
    std::unordered_map<std::uint64_t, std::pair<std::string, std::shared_ptr<Sub>>> sub_index;
    std::unordered_map<std::string, std::pair<std::uint64_t, Bus::RawServer>, StringHash, std::equal_to<>> servers;
    std::unordered_map<std::uint64_t, std::string> server_index;
    std::unordered_map<std::uint64_t, Pending> pending;
    bool needs_compaction = false;
    int depth = 0;              // > 0 while drain() is delivering
    bool cleanup_pending = false;  // close() called from inside a handler

    bool on_loop() const {
        uv_thread_t self = uv_thread_self();
        return uv_thread_equal(&self, &loop_thread) != 0;
    }

    void require_loop(const char* what) const {
        if (!on_loop()) throw std::logic_error(std::string("bus: ") + what + " must be called on the loop thread");
    }

    // Queues an envelope; false if closed or (for bounded kinds) full.
    bool push(Envelope e, bool bounded, bool wait) {
        std::unique_lock lock(mu);
        if (bounded) {
            if (wait) {
                space.wait(lock, [&] { return closed || counted < options.max_queued; });
            }
            if (closed) return false;
            if (counted >= options.max_queued) {
                dropped_full.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            ++counted;
        } else if (closed) {
            return false;
        }
        queue.push_back(std::move(e));
        if (on_loop()) {
            arm_check();
        } else {
            uv_async_send(async);
        }
        return true;
    }

    void arm_check() {
        if (check_armed) return;
        check_armed = true;
        uv_check_start(check, [](uv_check_t* h) { static_cast<BusCore*>(h->data)->on_check(); });
        uv_idle_start(idle, [](uv_idle_t*) {});
    }

    void on_check() {
        check_armed = false;
        uv_check_stop(check);
        uv_idle_stop(idle);
        drain();
    }

    template <class F>
    void guarded(std::string_view what, std::string_view topic, F&& f) {
        try {
            f();
        } catch (const std::exception& ex) {
            handler_errors.fetch_add(1, std::memory_order_relaxed);
            log->error("{} for '{}' threw: {}", what, topic, ex.what());
        } catch (...) {
            handler_errors.fetch_add(1, std::memory_order_relaxed);
            log->error("{} for '{}' threw a non-standard exception", what, topic);
        }
    }

    void complete(std::uint64_t id, Result<std::shared_ptr<void>> result) {
        auto it = pending.find(id);
        if (it == pending.end()) return;  // late answer after a timeout: dropped
        auto done = std::move(it->second.done);
        pending.erase(it);
        guarded("request callback", "reply", [&] { done(std::move(result)); });
    }

    void deliver(Envelope& e) {
        switch (e.kind) {
            case Envelope::Kind::publish: {
                auto it = subs.find(e.topic);
                if (it == subs.end()) return;
                // Index loop over a stable reference: handlers may subscribe (push_back) while
                // we iterate; erasure waits for compact() and close() waits for the batch end.
                auto& vec = it->second;
                for (std::size_t i = 0, n = vec.size(); i < n && !closed; ++i) {
                    auto sub = vec[i];
                    if (!sub->alive) continue;
                    delivered.fetch_add(1, std::memory_order_relaxed);
                    guarded("handler", e.topic, [&] { sub->handler(e.payload.get()); });
                }
                return;
            }
            case Envelope::Kind::request: {
                auto it = servers.find(e.key);
                if (it == servers.end()) {
                    guarded("request callback", e.key, [&] {
                        e.done(Error{ErrorCode::no_handler, "nobody serves '" + e.key + "'"});
                    });
                    return;
                }
                auto& p = pending[e.id];
                p.done = std::move(e.done);
                if (e.timeout_ms > 0) {
                    p.timer = std::make_unique<Timer>(loop);
                    auto id = e.id;
                    std::weak_ptr<BusCore> weak = shared_from_this();
                    p.timer->start(e.timeout_ms, 0, [weak, id] {
                        if (auto core = weak.lock()) {
                            core->complete(id, Error{ErrorCode::timeout, "no reply in time"});
                        }
                    });
                }
                auto slot = std::make_shared<ReplySlot>(weak_from_this(), e.id);
                auto server = it->second.second;  // copy: the server may unregister itself
                delivered.fetch_add(1, std::memory_order_relaxed);
                try {
                    server(e.payload.get(), RawResponder(slot));
                } catch (const std::exception& ex) {
                    handler_errors.fetch_add(1, std::memory_order_relaxed);
                    log->error("server for '{}' threw: {}", e.key, ex.what());
                    RawResponder(slot).fail(Error{ErrorCode::handler_failed, ex.what()});
                } catch (...) {
                    handler_errors.fetch_add(1, std::memory_order_relaxed);
                    log->error("server for '{}' threw a non-standard exception", e.key);
                    RawResponder(slot).fail(Error{ErrorCode::handler_failed, "unknown exception"});
                }
                return;
            }
            case Envelope::Kind::reply:
                if (e.failed) {
                    complete(e.id, std::move(e.error));
                } else {
                    complete(e.id, std::move(e.reply));
                }
                return;
        }
    }

    void drain() {
        std::deque<Envelope> batch;
        {
            std::lock_guard lock(mu);
            batch.swap(queue);
            counted = 0;
        }
        space.notify_all();
        ++depth;
        for (auto& e : batch) {
            if (closed) break;
            deliver(e);
        }
        --depth;
        if (cleanup_pending) {
            clear_callbacks();
        } else if (needs_compaction) {
            compact();
        }
    }

    // Drops every callback without calling it (their owners are going away).
    void clear_callbacks() {
        cleanup_pending = false;
        pending.clear();
        subs.clear();
        sub_index.clear();
        servers.clear();
        server_index.clear();
    }

    void compact() {
        needs_compaction = false;
        for (auto it = subs.begin(); it != subs.end();) {
            auto& v = it->second;
            std::erase_if(v, [](const auto& s) { return !s->alive; });
            it = v.empty() ? subs.erase(it) : std::next(it);
        }
    }

    void unsubscribe(std::uint64_t id) {
        if (auto it = sub_index.find(id); it != sub_index.end()) {
            it->second.second->alive = false;
            // Release the plugin's closure now, unless a handler may be running (it could be
            // this very one); compact() frees it after the batch.
            if (depth == 0) it->second.second->handler = nullptr;
            sub_index.erase(it);
            needs_compaction = true;
            if (!closed) {
                std::lock_guard lock(mu);
                uv_async_send(async);  // compact soon
            }
            return;
        }
        if (auto it = server_index.find(id); it != server_index.end()) {
            auto s = servers.find(it->second);
            if (s != servers.end() && s->second.first == id) servers.erase(s);
            server_index.erase(it);
        }
    }
};

ReplySlot::~ReplySlot() {
    if (answered.exchange(true)) return;
    if (auto c = core.lock()) {
        Envelope e;
        e.kind = Envelope::Kind::reply;
        e.id = id;
        e.failed = true;
        e.error = Error{ErrorCode::abandoned, "the server dropped the request without replying"};
        c->push(std::move(e), false, false);
    }
}

}  // namespace detail

// --- Subscription ----------------------------------------------------------------------------

Subscription::Subscription(std::weak_ptr<detail::BusCore> core, std::uint64_t id)
    : core_(std::move(core)), id_(id) {}

Subscription::Subscription(Subscription&& other) noexcept
    : core_(std::move(other.core_)), id_(std::exchange(other.id_, 0)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        reset();
        core_ = std::move(other.core_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

Subscription::~Subscription() { reset(); }

void Subscription::reset() {
    if (id_ == 0) return;
    if (auto core = core_.lock()) core->unsubscribe(id_);
    id_ = 0;
    core_.reset();
}

// --- Responder ------------------------------------------------------------------------------

void RawResponder::reply(std::shared_ptr<void> payload) const {
    if (!slot_ || slot_->answered.exchange(true)) return;
    if (auto c = slot_->core.lock()) {
        detail::Envelope e;
        e.kind = detail::Envelope::Kind::reply;
        e.id = slot_->id;
        e.reply = std::move(payload);
        c->push(std::move(e), false, false);
    }
}

void RawResponder::fail(Error error) const {
    if (!slot_ || slot_->answered.exchange(true)) return;
    if (auto c = slot_->core.lock()) {
        detail::Envelope e;
        e.kind = detail::Envelope::Kind::reply;
        e.id = slot_->id;
        e.failed = true;
        e.error = std::move(error);
        c->push(std::move(e), false, false);
    }
}

// --- Bus ------------------------------------------------------------------------------------

Bus::Bus(uv_loop_t* loop, BusOptions options) : core_(std::make_shared<detail::BusCore>()) {
    core_->loop = loop;
    core_->options = options;
    core_->loop_thread = uv_thread_self();
    core_->async = new uv_async_t;
    // The handle keeps the core alive until libuv has closed it.
    core_->async->data = new std::shared_ptr<detail::BusCore>(core_);
    uv_async_init(loop, core_->async, [](uv_async_t* a) {
        auto core = *static_cast<std::shared_ptr<detail::BusCore>*>(a->data);
        core->drain();
    });
    core_->check = new uv_check_t;
    core_->idle = new uv_idle_t;
    uv_check_init(loop, core_->check);
    uv_idle_init(loop, core_->idle);
    core_->check->data = core_.get();  // closed before `async`, which keeps the core alive
    // The bus alone must not keep the loop running.
    uv_unref(reinterpret_cast<uv_handle_t*>(core_->async));
    uv_unref(reinterpret_cast<uv_handle_t*>(core_->check));
    uv_unref(reinterpret_cast<uv_handle_t*>(core_->idle));
}

Bus::~Bus() { close(); }

void Bus::close() {
    auto& c = *core_;
    std::deque<detail::Envelope> undelivered;
    {
        std::lock_guard lock(c.mu);
        if (c.closed) return;
        c.closed = true;
        undelivered.swap(c.queue);
        c.counted = 0;
    }
    // Destroyed outside the lock: an envelope may own a responder whose destructor pushes its
    // "abandoned" reply, which takes the lock again (and is refused, the bus being closed).
    undelivered.clear();
    c.space.notify_all();
    // Owners are going away: drop callbacks without calling them (after the current batch
    // if we are inside a handler).
    if (c.depth > 0) {
        c.cleanup_pending = true;
    } else {
        c.clear_callbacks();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(c.check), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
    uv_close(reinterpret_cast<uv_handle_t*>(c.idle), [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
    uv_close(reinterpret_cast<uv_handle_t*>(c.async), [](uv_handle_t* h) {
        delete static_cast<std::shared_ptr<detail::BusCore>*>(h->data);
        delete reinterpret_cast<uv_async_t*>(h);
    });
}

Subscription Bus::subscribe_raw(std::string_view topic, RawHandler handler) {
    core_->require_loop("subscribe");
    auto id = core_->next_id.fetch_add(1);
    auto sub = std::make_shared<detail::BusCore::Sub>();
    sub->handler = std::move(handler);
    auto it = core_->subs.find(topic);
    if (it == core_->subs.end()) it = core_->subs.emplace(std::string(topic), std::vector<std::shared_ptr<detail::BusCore::Sub>>{}).first;
    it->second.push_back(sub);
    core_->sub_index.emplace(id, std::make_pair(std::string(topic), std::move(sub)));
    return Subscription(core_, id);
}

bool Bus::publish_raw(std::string_view topic, std::shared_ptr<const void> payload, bool wait) {
    if (wait && core_->on_loop()) return false;
    detail::Envelope e;
    e.kind = detail::Envelope::Kind::publish;
    e.topic = topic;
    e.payload = std::move(payload);
    return core_->push(std::move(e), true, wait);
}

Subscription Bus::serve_raw(std::string_view topic, std::string_view route, RawServer server) {
    core_->require_loop("serve");
    auto key = route_key(topic, route);
    if (core_->servers.count(key)) throw std::logic_error("bus: '" + key + "' already has a server");
    auto id = core_->next_id.fetch_add(1);
    core_->servers.emplace(key, std::make_pair(id, std::move(server)));
    core_->server_index.emplace(id, std::move(key));
    return Subscription(core_, id);
}

bool Bus::request_raw(std::string_view topic, std::string_view route, std::shared_ptr<const void> payload,
                      std::uint32_t timeout_ms, RawDone done) {
    detail::Envelope e;
    e.kind = detail::Envelope::Kind::request;
    e.key = route_key(topic, route);
    e.payload = std::move(payload);
    e.id = core_->next_id.fetch_add(1);
    e.timeout_ms = timeout_ms;
    e.done = std::move(done);
    return core_->push(std::move(e), true, false);
}

BusStats Bus::stats() const {
    BusStats s;
    s.delivered = core_->delivered.load();
    s.dropped_full = core_->dropped_full.load();
    s.handler_errors = core_->handler_errors.load();
    std::lock_guard lock(core_->mu);
    s.queued = core_->counted;
    return s;
}

bool Bus::on_loop_thread() const { return core_->on_loop(); }
uv_loop_t* Bus::loop() const { return core_->loop; }

}  // namespace veil::sdk
