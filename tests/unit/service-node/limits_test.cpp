#include <catch2/catch.hpp>

#include "limits.hpp"

using namespace veil::node;

TEST_CASE("limits - data size and TTL bounds", "[node][limits]") {
    Limits l;
    StoreRequest q{{}, 0, 10'000, Bytes(76'800)};
    CHECK(check_store(l, q) == Status::ok);
    q.data.push_back(0);
    CHECK(check_store(l, q) == Status::too_large);
    q.data.pop_back();
    q.ttl_ms = 9'999;
    CHECK(check_store(l, q) == Status::bad_ttl);
    q.ttl_ms = 14ULL * 24 * 3600 * 1000;
    CHECK(check_store(l, q) == Status::ok);
    q.ttl_ms += 1;
    CHECK(check_store(l, q) == Status::bad_ttl);

    CHECK(check_expiry(l, 1000, 1000) == Status::bad_ttl);  // not in the future
    CHECK(check_expiry(l, 1001, 1000) == Status::ok);
    CHECK(check_expiry(l, 1000 + l.max_ttl_ms + 1, 1000) == Status::bad_ttl);
}

TEST_CASE("limits - pages are clamped to the node's caps", "[node][limits]") {
    Limits l;
    auto p = clamp_page(l, PageQuery{std::nullopt, 0, 0});
    CHECK(p.max_count == 1);
    CHECK(p.max_bytes == 1);
    p = clamp_page(l, PageQuery{std::nullopt, 1'000'000, 0xffffffff});
    CHECK(p.max_count == l.max_page_count);
    CHECK(p.max_bytes == l.max_page_bytes);
}

TEST_CASE("limits - the per-connection rate limiter is a token bucket", "[node][limits]") {
    RateLimiter r(10, 5);  // 10 a second, bursts of 5
    std::uint64_t t = 1'000'000;
    for (int i = 0; i < 5; ++i) CHECK(r.allow(t));
    CHECK_FALSE(r.allow(t));
    CHECK_FALSE(r.allow(t + 50));  // half a token
    CHECK(r.allow(t + 100));       // one token after 100 ms
    CHECK_FALSE(r.allow(t + 100));
    CHECK(r.allow(t + 10'000));  // refilled, but only up to the burst
    for (int i = 0; i < 4; ++i) CHECK(r.allow(t + 10'000));
    CHECK_FALSE(r.allow(t + 10'000));
    CHECK_FALSE(r.allow(t + 5'000));  // a clock going back adds nothing
}

TEST_CASE("limits - a peer frame refused for its bytes spends no request token", "[node][limits]") {
    Limits l;
    l.peer_requests_per_second = 1;
    l.peer_request_burst = 5;
    l.peer_bytes_per_second = 1;
    l.peer_byte_burst = 1'000;
    PeerBudget budget(l);
    const std::uint64_t t = 1'000'000;
    for (int i = 0; i < 20; ++i) CHECK_FALSE(budget.allow(t, 5'000));  // over the byte budget
    for (int i = 0; i < 5; ++i) CHECK(budget.allow(t, 10));  // every request token is still there
    CHECK_FALSE(budget.allow(t, 10));
    RateLimiter r(1, 2);
    CHECK(r.can(t));
    CHECK_FALSE(r.can(t, 3));
    CHECK(r.allow(t, 2));
    CHECK_FALSE(r.can(t));
    CHECK(r.can(t + 1'000));  // refilled as allow() would see it
    CHECK_FALSE(r.allow(t));  // can() took nothing and moved no clock
}
