#include <catch2/catch.hpp>

#include "inbox_read_policy.hpp"

using namespace veil::messenger;
using P = InboxReadPolicy;

TEST_CASE("a member that answers every long-poll with nothing new is left, with a growing pause", "[messenger]") {
    P policy(0);
    std::uint64_t last = 0;
    for (int i = 0; i < 10; ++i) {
        auto next = policy.after_answer(false, 0);
        CHECK(next.change_member);
        CHECK(next.delay_ms >= last);
        CHECK(next.delay_ms > 0);
        CHECK(next.delay_ms <= P::kMaxStaleDelayMs);
        last = next.delay_ms;
    }
    CHECK(last == P::kMaxStaleDelayMs);
    // News again: no pause.
    CHECK(policy.after_answer(true, 0).delay_ms == 0);
}

TEST_CASE("while news flows the long-poll stays a few rounds on one member, then moves", "[messenger]") {
    P policy(0);
    for (unsigned i = 1; i < P::kMaxRoundsPerMember; ++i) {
        auto next = policy.after_answer(true, 0);
        CHECK_FALSE(next.change_member);
        CHECK(next.delay_ms == 0);
    }
    CHECK(policy.after_answer(true, 0).change_member);
    CHECK_FALSE(policy.after_answer(true, 0).change_member);
}

TEST_CASE("a full read of the inbox is due on a timer even while one member keeps answering", "[messenger]") {
    P policy(1'000);
    CHECK_FALSE(policy.after_answer(true, 1'000 + P::kFullReadEveryMs - 1).full_read);
    CHECK(policy.after_answer(true, 1'000 + P::kFullReadEveryMs).full_read);
    policy.full_read_done(1'000 + P::kFullReadEveryMs);
    CHECK_FALSE(policy.after_answer(true, 1'000 + P::kFullReadEveryMs + 1).full_read);
}
