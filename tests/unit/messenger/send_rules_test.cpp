#include <catch2/catch.hpp>

#include "errors.hpp"
#include "retry.hpp"
#include "outbox.hpp"

using namespace veil;
using namespace veil::messenger;

TEST_CASE("send rules - a failing send is retried after 1 s, doubling to 30 s, and starts over", "[messenger]") {
    RetryBackoff b;
    std::vector<std::uint64_t> delays;
    for (int i = 0; i < 8; ++i) delays.push_back(b.next_ms());
    CHECK(delays == std::vector<std::uint64_t>{1'000, 2'000, 4'000, 8'000, 16'000, 30'000, 30'000, 30'000});
    b.reset();
    CHECK(b.next_ms() == 1'000);
}

TEST_CASE("send rules - only an ID without a device list drops a message; trouble keeps it queued", "[messenger]") {
    CHECK(is_undeliverable({sdk::ErrorCode::not_found, "no device list is published for 05..."}));
    CHECK_FALSE(is_undeliverable(network_error({sdk::ErrorCode::timeout, "no answer"})));
    CHECK_FALSE(is_undeliverable(database_error({sdk::ErrorCode::io, "disk full"}, true)));
    CHECK_FALSE(is_undeliverable({sdk::ErrorCode::refused, "a service node answered rate_limited"}));
    // The text never decides: a network error whose text mentions a device list still retries.
    CHECK_FALSE(is_undeliverable({sdk::ErrorCode::unreachable, "no device list is published for 05..."}));
}

TEST_CASE("send rules - errors keep the sentences people and tests read", "[messenger]") {
    auto net = network_error({sdk::ErrorCode::timeout, "no answer"});
    CHECK(net.code == sdk::ErrorCode::unreachable);
    CHECK(net.message == "network unreachable (timeout: no answer)");
    auto write = database_error({sdk::ErrorCode::io, "disk full"}, true);
    CHECK(write.code == sdk::ErrorCode::io);
    CHECK(write.message == "cannot write the database: io: disk full");
    CHECK(database_closed(false).message == "cannot read the database: the bus is closed");
}

TEST_CASE("send rules - a command is judged by its own held messages only", "[messenger]") {
    const MessageId mine{1}, chain{2}, theirs{3};
    std::map<MessageId, sdk::Error> held{{theirs, {sdk::ErrorCode::refused, "another message's swarm refused it"}}};
    // Another message held in the same queue: this command's own went out (exit 0).
    CHECK(held_reason(held, {mine, chain}).empty());
    CHECK(held_reason({}, {mine}).empty());
    // Its own chain delivery held: the members cannot read the message yet (exit 1, why).
    held.emplace(chain, sdk::Error{sdk::ErrorCode::not_found, "no keys published for 05ab (retrying)"});
    CHECK(held_reason(held, {mine, chain}) == "no keys published for 05ab (retrying)");
    CHECK(held_reason(held, {theirs}) == "another message's swarm refused it");
}
