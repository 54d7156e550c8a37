#pragma once
/// Framed request/reply over TCP on libuv, shared by the direct transport, service nodes and
/// onion relays.
///
/// Wire format of one frame (veil/wire/codec.hpp, big-endian):
///     u32 length | u64 request id | u8 status | payload      (length counts what follows it)
/// status 1 = ok (payload is the reply or request body), 2 = error (payload is a UTF-8 message).
/// A client numbers its requests; the server answers each with the same id, in any order.
///
/// Threads: Server and Client are loop-thread only, and so are their callbacks. A Reply handle
/// may be answered from any thread (it is posted back to the loop).
/// Addresses are numeric ("127.0.0.1:7000", "[::1]:7000"); no name resolution here.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sdk::net {

using Bytes = wire::Bytes;

/// A numeric host and a port.
struct Endpoint {
    std::string host;        ///< "127.0.0.1" or "::1" (no brackets)
    std::uint16_t port = 0;  ///< 0 = any free port when listening
    /// "host:port" ("[v6]:port" for IPv6).
    [[nodiscard]] VEIL_SDK_API std::string to_string() const;
};

/// Parses "host:port" or "[v6]:port"; bad_input on anything else.
VEIL_SDK_API Result<Endpoint> parse_endpoint(std::string_view text);

/// Frame status byte. Zero is never valid.
enum class FrameStatus : std::uint8_t {
    ok = 1,     ///< payload is a body
    error = 2,  ///< payload is an error message
};

/// One decoded frame.
struct Frame {
    std::uint64_t id = 0;
    FrameStatus status = FrameStatus::ok;
    Bytes payload;
};

/// Encodes one frame (length prefix included).
VEIL_SDK_API Bytes encode_frame(const Frame& frame);

/// The largest payload accepted for the frame whose payload starts with `head` (the bytes
/// received so far), or nullopt while `head` is too short to tell. Lets a server accept a large
/// frame only where one is expected (e.g. by the service named at the start of the payload).
using FrameLimit = std::function<std::optional<std::size_t>(wire::ByteView head)>;

/// Splits a TCP byte stream into frames. Untrusted input: a length above max_frame_bytes (or
/// above the FrameLimit of its payload) or a bad status byte is an error and the decoder stays
/// failed (the connection must close). The buffer grows with the bytes received, never by the
/// announced length.
class VEIL_SDK_API FrameDecoder final {
public:
    explicit FrameDecoder(std::size_t max_frame_bytes, FrameLimit limit = {})
        : max_(max_frame_bytes), limit_(std::move(limit)) {}
    /// Appends bytes; returns false once the stream is invalid (see error()).
    bool feed(const std::uint8_t* data, std::size_t size);
    /// The next complete frame, if any.
    std::optional<Frame> next();
    /// Why the stream is invalid (empty while valid).
    [[nodiscard]] const std::string& error() const { return error_; }
    /// Bytes received and not yet returned by next() (a partial frame, after next() ran dry).
    [[nodiscard]] std::size_t pending() const { return buf_.size() - pos_; }
    /// Heap bytes held by the buffer (what a node's partial-frame budget counts).
    [[nodiscard]] std::size_t memory() const { return buf_.capacity(); }

private:
    bool check_head();
    void fail(std::string why);

    std::size_t max_;
    FrameLimit limit_;
    bool head_checked_ = false;  // the FrameLimit accepted the frame at pos_
    Bytes buf_;
    std::size_t pos_ = 0;
    std::string error_;
};

/// Server limits. Defaults suit a service node on a small machine. Deadlines are not reset by
/// single bytes: a connection trickling one byte at a time is closed when its frame is late.
struct ServerOptions {
    std::size_t max_frame_bytes = 1 << 20;       ///< larger frames close the connection
    FrameLimit frame_limit;                      ///< optional per-frame cap below max_frame_bytes
    std::uint64_t idle_timeout_ms = 60'000;      ///< no complete frame nor reply this long, nothing in flight: closed
    std::uint64_t frame_deadline_ms = 30'000;    ///< a frame must complete this long after its first byte
    std::size_t max_in_flight = 64;              ///< per connection: stop reading above this
    std::size_t max_write_queue_bytes = 4 << 20; ///< per connection: stop reading above this
    std::size_t max_connections = 1024;          ///< when full, the group holding most loses an idle one
    std::size_t max_connections_per_source = 64; ///< per IPv4 address or IPv6 /64: further accepts closed
    std::size_t max_connections_per_group = 256; ///< per IPv4 /24 or IPv6 /48: further accepts closed
    /// Per group: connections a held wait (hold()) may keep from yielding; above it waits yield.
    std::size_t max_held_per_group = 64;
    /// All groups together: connections held waits may keep from yielding (the rest can always
    /// yield to a newcomer, however many groups hold waits).
    std::size_t max_held = 512;
    /// Testnets only: every loopback connection is its own source and group (all processes of a
    /// loopback testnet share 127.0.0.1). Never set on a node reachable from a network.
    bool loopback_per_connection = false;
    std::size_t partial_frame_budget = 64 << 20; ///< all connections' buffers: above it the largest is closed
};

/// What a Server refused or closed, for tests and stats.
struct ServerStats {
    std::uint64_t refused_per_source = 0;  ///< accepts closed: the source was at its cap
    std::uint64_t refused_per_group = 0;   ///< accepts closed: the source's /24 or /48 was at its cap
    std::uint64_t evicted_when_full = 0;   ///< idle (or yielding) connections closed to make room for another group
    std::uint64_t refused_when_full = 0;   ///< accepts closed: full, and no larger group had an idle one
    std::uint64_t late_frames = 0;         ///< connections closed: a frame missed its deadline
    std::uint64_t idle_closed = 0;         ///< connections closed: idle
    std::uint64_t over_budget = 0;         ///< connections closed: partial frames over the budget
    std::uint64_t refused_frames = 0;      ///< connections closed: frame too large or malformed
    std::size_t partial_frame_bytes = 0;   ///< buffered now, all connections
};

/// Answers one request. Copyable; the first reply()/fail() wins. If every copy is dropped
/// unanswered, the client gets an error frame ("no reply"). Any thread.
class VEIL_SDK_API Reply final {
public:
    struct Slot;
    explicit Reply(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
    /// Sends an ok frame with `body`.
    void reply(Bytes body) const;
    /// Sends an error frame with `message` (keep it free of secrets).
    void fail(std::string_view message) const;
    /// Which connection the request came on: unique within its Server, never reused, so a
    /// handler can keep per-connection state (e.g. a rate limit) without seeing any address.
    [[nodiscard]] std::uint64_t connection_id() const;
    /// An opaque key of the connection's source (IPv4 address or IPv6 /64; each loopback
    /// connection apart under ServerOptions::loopback_per_connection), for per-source budgets.
    [[nodiscard]] const std::string& source() const;

private:
    std::shared_ptr<Slot> slot_;
};

/// Listens on one address and calls the handler for each request frame.
class VEIL_SDK_API Server final {
public:
    /// `handler(body, reply)` runs on the loop thread; it may answer later.
    using Handler = std::function<void(Bytes body, Reply reply)>;
    Server(uv_loop_t* loop, ServerOptions options, Handler handler);
    /// Closes the listener and every connection.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and listens; returns the bound endpoint (the real port if 0 was asked).
    Result<Endpoint> listen(const Endpoint& at);
    /// Stops accepting and closes every connection (pending replies are dropped).
    void close();
    /// Number of open connections.
    [[nodiscard]] std::size_t connections() const;
    /// Counters since start. Loop thread.
    [[nodiscard]] ServerStats stats() const;
    /// Marks one request in flight on `connection` (Reply::connection_id) as yielding, or
    /// unmarks it: a long wait anyone may start (an unsigned long-poll). A full server may close
    /// a connection whose requests in flight all yield, as it closes an idle one, so such waits
    /// cannot pin slots. Unknown or closed connections are ignored. Loop thread.
    void set_yielding(std::uint64_t connection, bool yielding);
    /// A wait only an owner may start (a signed long-poll) on `connection`: it keeps the
    /// connection from being cut while its group holds at most max_held_per_group connections
    /// with such waits and the server at most max_held. Returns false (nothing marked) past
    /// either, or for an unknown
    /// connection: the caller then marks the wait yielding. Every true is paired with unhold().
    /// So owners of free keypairs cannot pin more slots than a few groups' shares. Loop thread.
    bool hold(std::uint64_t connection);
    void unhold(std::uint64_t connection);

    struct Core;

private:
    std::shared_ptr<Core> core_;
};

/// Client limits.
struct ClientOptions {
    std::size_t max_frame_bytes = 1 << 20;  ///< larger replies close the connection
    std::uint64_t connect_timeout_ms = 5'000;
    std::uint64_t idle_timeout_ms = 60'000; ///< close an idle connection (reopened on demand)
};

/// A connection to one server, opened on the first request and reopened after a failure.
class VEIL_SDK_API Client final {
public:
    /// `done` gets the reply body, or: unreachable (connect failed or timed out), timeout,
    /// closed (connection lost with the request in flight), too_large, handler_failed (the
    /// server sent an error frame; its message is kept), bad_input (corrupt stream).
    using Done = std::function<void(Result<Bytes>)>;
    Client(uv_loop_t* loop, Endpoint server, ClientOptions options = {});
    /// Drops pending requests without calling their callbacks (the owner is going away).
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Sends `body`; `done` runs exactly once on the loop thread.
    void request(Bytes body, std::uint64_t timeout_ms, Done done);
    /// Closes the connection; pending requests fail with `closed`.
    void close();
    /// The server's endpoint.
    [[nodiscard]] const Endpoint& server() const;

    struct Core;

private:
    std::shared_ptr<Core> core_;
};

/// One Client per server address, opened on first use and kept for reuse (the direct transport,
/// onion relays and clients, manifest fetches). Bounded: when full, the oldest entry is closed
/// (its pending requests fail with `closed`). Loop-thread only.
class VEIL_SDK_API ClientPool final {
public:
    ClientPool(uv_loop_t* loop, ClientOptions options, std::size_t max_clients = 256);
    ~ClientPool();
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    /// The client for "host:port", or bad_input if the address does not parse.
    Result<Client*> get(std::string_view address);
    /// Drops the clients whose address fails `keep` (e.g. nodes gone from the manifest).
    void retain_if(const std::function<bool(const std::string& address)>& keep);
    /// Drops every client without calling pending callbacks.
    void clear();
    /// Open clients.
    [[nodiscard]] std::size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace veil::sdk::net
