// Which parked subscribes a store wakes (parked.hpp): a stranger parking many public subscribes
// of Bob's mailbox must not make each of Bob's stores re-run all of them.
#include <catch2/catch.hpp>

#include "node_fixture.hpp"
#include "parked.hpp"

using namespace veil::node;
using namespace veil::node::test;

TEST_CASE("parked - a store wakes only its namespace, and a bounded number", "[node][parked]") {
    constexpr std::size_t kPerKey = 16;
    ParkedIndex index(kPerKey);
    auto bob = owner_in(kSwarmA).pub;
    const Wake envelopes{bob, 0};
    const Wake device_list{bob, 5};  // a public namespace: anyone may park an unsigned subscribe
    std::uint64_t token = 0;
    index.add(envelopes, ++token);  // Bob's own device waits for mail
    // A stranger parks 300 subscribes on the public namespace; each beyond the bound pushes the
    // oldest out (to be answered at once).
    std::size_t pushed_out = 0;
    for (int i = 0; i < 300; ++i)
        if (auto oldest = index.add(device_list, ++token)) {
            CHECK(*oldest == token - kPerKey);
            ++pushed_out;
        }
    CHECK(pushed_out == 300 - kPerKey);
    // A free store into the envelope namespace re-runs Bob's one subscribe, none of the stranger's.
    CHECK(index.waiting(envelopes) == std::vector<std::uint64_t>{1});
    // A store into the public namespace re-runs at most the bound.
    CHECK(index.waiting(device_list).size() == kPerKey);
    index.remove(envelopes, 1);
    CHECK(index.waiting(envelopes).empty());
    CHECK(index.waiting(Wake{owner_in(kSwarmA).pub, 0}).empty());
}
