#include <catch2/catch.hpp>

#include <algorithm>

#include "public_gather.hpp"

using namespace veil::messenger;
using veil::proto::node::MessageItem;

namespace {
MessageItem item(std::uint32_t n, std::size_t bytes) {
    MessageItem m;
    for (int i = 0; i < 4; ++i) m.hash[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    m.data.assign(bytes, static_cast<std::uint8_t>(n));
    return m;
}
}  // namespace

TEST_CASE("messenger - a member serving endless pages of junk stops at its share, the real list is found",
          "[messenger]") {
    constexpr std::size_t kMembers = 5;
    PublicGather gather(kMembers);
    // The honest member answers first with the real device list.
    auto real = item(0xabcdef, 900);
    CHECK(gather.add_page(0, {real}));
    // A hostile member: every page "has more", each 16 items of 64 KiB of junk (the loop gives
    // up after 50 pages, where an unbounded gather would go on for ever).
    std::size_t pages = 0;
    std::uint32_t next = 1;
    for (; pages < 50; ++pages) {
        std::vector<MessageItem> page;
        for (int i = 0; i < 16; ++i) page.push_back(item(next++, 64u << 10));
        if (!gather.add_page(1, std::move(page))) break;
    }
    CHECK(pages <= kMaxPublicBytes / kMembers / (1u << 20));
    CHECK(gather.bytes_from(1) <= kMaxPublicBytes / kMembers);
    auto items = gather.take();
    std::size_t total = 0;
    for (const auto& m : items) total += m.data.size();
    CHECK(total <= kMaxPublicBytes);
    CHECK(std::count(items.begin(), items.end(), real) == 1);
}

TEST_CASE("messenger - public items are deduplicated across members and pages", "[messenger]") {
    PublicGather gather(3);
    CHECK(gather.add_page(0, {item(1, 10), item(2, 10)}));
    CHECK(gather.add_page(1, {item(2, 10), item(1, 10), item(3, 10)}));
    CHECK(gather.add_page(2, {item(3, 10)}));
    auto items = gather.take();
    REQUIRE(items.size() == 3);
    CHECK(items[0] == item(1, 10));
    CHECK(items[1] == item(2, 10));
    CHECK(items[2] == item(3, 10));
}

TEST_CASE("messenger - one member's share stops paging even when every item repeats", "[messenger]") {
    PublicGather gather(1, 1000);
    std::size_t pages = 0;
    while (pages < 1000 && gather.add_page(0, {item(7, 100)})) ++pages;  // the same item again and again
    CHECK(pages < 11);
    CHECK(gather.take().size() == 1);
}

// Issue 14 review (MEDIUM): a hostile member answering one item a page, always with "more", held
// every lookup (and the receive round waiting on it) for up to 10,000 round trips.
TEST_CASE("messenger - a member serving one item a page is asked for a bounded number of pages", "[messenger]") {
    PublicGather gather(3);
    std::size_t asked = 0;
    for (std::uint32_t n = 1; n <= 10'000; ++n) {
        ++asked;
        if (!gather.add_page(1, {item(n, 100)})) break;
    }
    CHECK(asked == kMaxPublicPages);
    // An honest member's full pages still bring every item up to kMaxPublicItems.
    for (std::uint32_t page = 0; page < kMaxPublicPages; ++page) {
        std::vector<MessageItem> full;
        for (std::uint32_t i = 0; i < 1000; ++i) full.push_back(item(100'000 + page * 1000 + i, 10));
        if (!gather.add_page(0, std::move(full))) break;
    }
    CHECK(gather.take().size() == kMaxPublicItems + kMaxPublicPages);
}

// Issue 14 review (MEDIUM): one member answering "none" counted as the swarm saying the list is
// absent. Absence needs complete reads from most members, and from every member for a restore.
TEST_CASE("messenger - a list is absent only when enough members read completely say so", "[messenger]") {
    CHECK_FALSE(absence_agreed({1, 3}, false));
    CHECK(absence_agreed({2, 3}, false));
    CHECK_FALSE(absence_agreed({2, 4}, false));
    CHECK_FALSE(absence_agreed({2, 3}, true));
    CHECK(absence_agreed({3, 3}, true));
    CHECK_FALSE(absence_agreed({0, 0}, false));
    CHECK_FALSE(absence_agreed({0, 0}, true));
}
