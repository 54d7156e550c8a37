// leave_step (docs/groups.md §Leaving): an admin signs a leaver's removal only over exactly the
// state the leaver held, and only the designated admin (lowest ID) signs at once.
#include <catch2/catch.hpp>

#include "group_leave.hpp"

using namespace veil;
using namespace veil::messenger;
using crypto::GroupRole;
using crypto::GroupState;

TEST_CASE("messenger - a leave notice is signed only over the state it names, by one admin", "[messenger]") {
    auto a = crypto::Identity::generate(), b = crypto::Identity::generate(), mallory = crypto::Identity::generate(),
         leaver = crypto::Identity::generate();
    auto v1 = GroupState::create(a, "team", {b.veil_id(), mallory.veil_id(), leaver.veil_id()}, 1000);
    auto v2 = v1.with_role(a, b.veil_id(), GroupRole::admin, 2000);
    const auto& low = a.veil_id() < b.veil_id() ? a : b;
    const auto& high = a.veil_id() < b.veil_id() ? b : a;
    const auto named = v2.digest();
    CHECK(leave_step(v2, low.veil_id(), leaver.veil_id(), named) == LeaveStep::sign);
    CHECK(leave_step(v2, high.veil_id(), leaver.veil_id(), named) == LeaveStep::hold);
    CHECK(leave_step(v2, mallory.veil_id(), leaver.veil_id(), named) == LeaveStep::ignore);  // not an admin

    // Another admin removed Mallory after the leaver's state: a notice over v2 signs nothing on
    // v3 (a competing v3' would win the fork and bring Mallory back).
    auto v3 = v2.with_removed(high, {mallory.veil_id()}, 3000);
    CHECK(leave_step(v3, low.veil_id(), leaver.veil_id(), named, true) == LeaveStep::ignore);
    // A lagging admin still on v1 does not sign over a state it does not hold: it waits.
    CHECK(leave_step(v1, a.veil_id(), leaver.veil_id(), named) == LeaveStep::wait);
    // Removed and re-added since: the stale notice does not remove them again.
    auto v4 = v3.with_removed(low, {leaver.veil_id()}, 4000).with_added(low, {leaver.veil_id()}, 5000);
    CHECK(leave_step(v4, low.veil_id(), leaver.veil_id(), named, true) == LeaveStep::ignore);
    // The designated admin never signs: the next one in line does after its turn passed.
    CHECK(leave_step(v2, high.veil_id(), leaver.veil_id(), named, false, kLeaveFallbackMs - 1) == LeaveStep::hold);
    CHECK(leave_step(v2, high.veil_id(), leaver.veil_id(), named, false, kLeaveFallbackMs) == LeaveStep::sign);
    CHECK(leave_step(v2, mallory.veil_id(), leaver.veil_id(), named, false, 10 * kLeaveFallbackMs) == LeaveStep::ignore);
    // Our line already drops the leaver.
    auto gone = v2.with_removed(low, {leaver.veil_id()}, 3000);
    CHECK(leave_step(gone, low.veil_id(), leaver.veil_id(), gone.digest()) == LeaveStep::ignore);

    auto notice = LeaveNotice{v2.group_id(), named};
    auto back = decode_leave(encode_leave(notice));
    CHECK(back.group == notice.group);
    CHECK(back.state == notice.state);
    auto cut = encode_leave(notice);
    cut.pop_back();
    CHECK_THROWS_AS(decode_leave(cut), wire::DecodeError);
}
