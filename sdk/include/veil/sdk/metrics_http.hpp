#pragma once
/// The metrics endpoint: a tiny HTTP/1.x server on the kernel's libuv loop that answers
/// `GET /metrics` with the text format (metrics.hpp) and nothing else, and the one-shot scrape
/// `veil node status` reads it with. Hostile scrapers are bounded: a request head of at most
/// kMaxRequestBytes, a deadline for the whole exchange, a few connections at once; every answer
/// closes its connection. Loop thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "veil/sdk/export.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk::metrics {

/// Largest request head read (request line and headers); a longer one is answered 431.
inline constexpr std::size_t kMaxRequestBytes = 4096;

/// What a request head asks, once enough of it is read. Zero is never valid.
enum class Ask : std::uint8_t {
    need_more = 1,  ///< the head is not complete yet
    metrics,        ///< GET /metrics: answered 200
    not_found,      ///< GET of another path: 404
    bad_method,     ///< any other method: 405
    bad_request,    ///< not an HTTP/1.x request line: 400
    too_large,      ///< no end of head within kMaxRequestBytes: 431
};

/// Reads the first bytes of a request. Decides as soon as the request line is complete when it
/// is refused; `metrics` only once the whole head (ended by an empty line) is read.
VEIL_SDK_API Ask read_request(std::string_view head);

/// Bounds of the endpoint.
struct HttpOptions {
    std::size_t max_connections = 8;       ///< more are accepted and closed at once
    std::uint64_t deadline_ms = 5000;      ///< from accept to the answer written; then closed
};

/// What the endpoint counted (for tests and its own metrics).
struct HttpStats {
    std::uint64_t served = 0;      ///< 200 answers
    std::uint64_t refused = 0;     ///< 4xx answers
    std::uint64_t turned_away = 0; ///< connections closed at accept: too many open
    std::uint64_t timed_out = 0;   ///< connections closed at the deadline
};

/// Serves `GET /metrics`. `collect(done)` is called for each scrape and calls `done(text)` once,
/// now or later, on the loop thread.
class VEIL_SDK_API HttpEndpoint final {
public:
    using Collector = std::function<void(std::function<void(std::string)> done)>;
    HttpEndpoint(uv_loop_t* loop, HttpOptions options, Collector collect);
    /// Closes the listener and every connection (their handles finish closing as the loop runs).
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    /// Binds and listens; the bound address (the real port if 0 was asked).
    Result<net::Endpoint> listen(const net::Endpoint& at);
    /// Stops listening and closes every connection. Idempotent.
    void close();
    [[nodiscard]] HttpStats stats() const;
    /// Connections open now.
    [[nodiscard]] std::size_t connections() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// Largest answer scrape() reads.
inline constexpr std::size_t kMaxScrapeBytes = 4 << 20;

/// One `GET /metrics` from `at`: `done` gets the body of a 200 answer, or an Error (unreachable,
/// timeout, refused with the status line, too_large). Loop thread; `done` runs once.
VEIL_SDK_API void scrape(uv_loop_t* loop, const net::Endpoint& at, std::uint64_t timeout_ms,
                         std::function<void(Result<std::string>)> done);

}  // namespace veil::sdk::metrics
