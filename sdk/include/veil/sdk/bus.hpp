#pragma once
/// The typed bus: how plugins talk to each other without knowing each other.
///
/// A message is a plain struct with `static constexpr std::string_view topic = "veil.part.name";`
/// (commands imperative: "veil.storage.put"; events past tense: "veil.message.received").
/// A request additionally names its reply type: `using Reply = SomeStruct;`.
/// Dispatch is keyed by the topic string, never by typeid: two structs must never share a topic.
///
/// Threads: publish(), publish_wait() and request() may be called from any thread; everything is
/// queued and delivered on the loop thread, in publish order (so order per topic is kept).
/// Handlers, servers and request callbacks always run on the loop thread. subscribe() and serve()
/// are loop-thread only. A handler that throws is caught, logged on the "bus" logger and counted;
/// delivery goes on. The queue is bounded: when full, publish() returns false and drops.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <uv.h>

#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk {

/// A bus message: a movable struct with a stable `topic` name.
template <class M>
concept BusMessage = std::is_object_v<M> && std::is_move_constructible_v<M> && requires {
    { M::topic } -> std::convertible_to<std::string_view>;
};

/// A bus request: a message that also names its `Reply` struct.
template <class R>
concept BusRequest = BusMessage<R> && requires { typename R::Reply; } &&
                     std::is_move_constructible_v<typename R::Reply>;

/// Limits of one bus.
struct BusOptions {
    std::size_t max_queued = 65536;  ///< messages waiting for delivery, all topics together
};

/// Counters for diagnostics and benchmarks (read on any thread; values are approximate).
struct BusStats {
    std::uint64_t delivered = 0;       ///< handler invocations
    std::uint64_t dropped_full = 0;    ///< publish() calls refused because the queue was full
    std::uint64_t handler_errors = 0;  ///< handlers or servers that threw
    std::size_t queued = 0;            ///< messages waiting now
};

namespace detail {
struct BusCore;
struct ReplySlot;
}  // namespace detail

/// Keeps one subscription (or one server) alive; destroying it unsubscribes. Move-only.
/// Loop thread only. Safe to destroy after the bus itself is gone.
class VEIL_SDK_API Subscription final {
public:
    Subscription() = default;
    Subscription(std::weak_ptr<detail::BusCore> core, std::uint64_t id);
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription();
    /// Unsubscribes now.
    void reset();
    /// True while subscribed.
    [[nodiscard]] bool active() const { return id_ != 0; }

private:
    std::weak_ptr<detail::BusCore> core_;
    std::uint64_t id_ = 0;
};

/// Untyped reply handle given to servers; see Responder. Copyable; the first reply()/fail()
/// wins, later ones are ignored. If every copy is destroyed without an answer, the requester
/// gets ErrorCode::abandoned. May be used from any thread.
class VEIL_SDK_API RawResponder {
public:
    explicit RawResponder(std::shared_ptr<detail::ReplySlot> slot) : slot_(std::move(slot)) {}
    /// Sends the reply (ownership passes to the requester).
    void reply(std::shared_ptr<void> payload) const;
    /// Sends an error instead of a reply.
    void fail(Error error) const;

private:
    std::shared_ptr<detail::ReplySlot> slot_;
};

/// Typed reply handle: call reply() or fail() once, now or later, from any thread.
template <class Reply>
class Responder final {
public:
    explicit Responder(RawResponder raw) : raw_(std::move(raw)) {}
    /// Answers the request.
    void reply(Reply r) const { raw_.reply(std::make_shared<Reply>(std::move(r))); }
    /// Answers with an error (the requester's callback gets it as Result error).
    void fail(Error e) const { raw_.fail(std::move(e)); }
    /// Shorthand for fail(Error{code, message}).
    void fail(ErrorCode code, std::string message) const { raw_.fail(Error{code, std::move(message)}); }

private:
    RawResponder raw_;
};

/// The bus. Owned by the kernel (one per process); plugins reach it through Context::bus().
class VEIL_SDK_API Bus final {
public:
    /// A bus delivering on `loop`. Construct on the loop thread.
    explicit Bus(uv_loop_t* loop, BusOptions options = {});
    /// Closes the bus if still open. The loop must run afterwards to free the uv handle.
    ~Bus();
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;

    /// Stops accepting messages and drops what is queued, every subscription and every pending
    /// request callback WITHOUT calling them (the kernel closes the bus after stopping all
    /// plugins, whose callbacks must not run any more). Loop thread only; safe in a handler.
    void close();

    /// Calls `handler` on the loop thread for every message of type M. Loop thread only.
    template <BusMessage M>
    [[nodiscard]] Subscription subscribe(std::function<void(const M&)> handler) {
        return subscribe_raw(M::topic, [h = std::move(handler)](const void* p) {
            h(*static_cast<const M*>(p));
        });
    }

    /// Queues `msg` for every subscriber of M. Any thread. Returns false (and drops the
    /// message) when the queue is full or the bus is closed.
    template <BusMessage M>
    bool publish(M msg) {
        return publish_raw(M::topic, std::make_shared<const M>(std::move(msg)), false);
    }

    /// Like publish() but waits for room in the queue. Not on the loop thread (returns false
    /// there, since waiting would deadlock); returns false once the bus is closed.
    template <BusMessage M>
    bool publish_wait(M msg) {
        return publish_raw(M::topic, std::make_shared<const M>(std::move(msg)), true);
    }

    /// Registers the single server of request R (or of R under `route`, e.g. a service name).
    /// A second server for the same topic and route throws std::logic_error. Loop thread only.
    template <BusRequest R>
    [[nodiscard]] Subscription serve(
        std::function<void(const R&, Responder<typename R::Reply>)> handler,
        std::string_view route = {}) {
        return serve_raw(R::topic, route, [h = std::move(handler)](const void* p, RawResponder r) {
            h(*static_cast<const R*>(p), Responder<typename R::Reply>(std::move(r)));
        });
    }

    /// Sends request `req` to its server. `done` runs exactly once on the loop thread with
    /// the reply or an Error (timeout, no_handler, abandoned, handler_failed, closed).
    /// `timeout_ms` 0 means no deadline. Any thread. Returns false if the queue is full or the
    /// bus closed; `done` then never runs.
    template <BusRequest R>
    [[nodiscard]] bool request(R req, std::uint32_t timeout_ms,
                               std::function<void(Result<typename R::Reply>)> done,
                               std::string_view route = {}) {
        using Reply = typename R::Reply;
        return request_raw(R::topic, route, std::make_shared<const R>(std::move(req)), timeout_ms,
                           [d = std::move(done)](Result<std::shared_ptr<void>> r) {
                               if (!r.ok()) {
                                   d(r.error());
                               } else {
                                   d(std::move(*static_cast<Reply*>(r.value().get())));
                               }
                           });
    }

    /// Counters (any thread).
    [[nodiscard]] BusStats stats() const;
    /// True when called on the loop thread that owns this bus.
    [[nodiscard]] bool on_loop_thread() const;
    /// The loop this bus delivers on.
    [[nodiscard]] uv_loop_t* loop() const;

    /// Untyped building blocks of the templates above (stable ABI, no templates inside).
    using RawHandler = std::function<void(const void*)>;
    using RawServer = std::function<void(const void*, RawResponder)>;
    using RawDone = std::function<void(Result<std::shared_ptr<void>>)>;
    Subscription subscribe_raw(std::string_view topic, RawHandler handler);
    bool publish_raw(std::string_view topic, std::shared_ptr<const void> payload, bool wait);
    Subscription serve_raw(std::string_view topic, std::string_view route, RawServer server);
    bool request_raw(std::string_view topic, std::string_view route,
                     std::shared_ptr<const void> payload, std::uint32_t timeout_ms, RawDone done);

private:
    std::shared_ptr<detail::BusCore> core_;
};

}  // namespace veil::sdk
