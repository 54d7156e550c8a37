#include <catch2/catch.hpp>

#include "inbox_items.hpp"
#include "published.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil;
using namespace veil::messenger;
namespace pn = proto::node;

namespace {

pn::PublicKey mailbox() {
    pn::PublicKey k{};
    k.fill(7);
    return k;
}

pn::MessageItem genuine(std::uint8_t fill) {
    pn::MessageItem m;
    m.data.assign(40, fill);
    m.hash = pn::message_hash(mailbox(), kInboxNamespace, m.data);
    return m;
}

// Junk a hostile node serves under a real message's hash.
pn::MessageItem forged_copy_of(const pn::MessageItem& real) {
    pn::MessageItem m = real;
    m.data.assign(40, 0xEE);
    return m;
}

}  // namespace

TEST_CASE("inbox items whose data does not match their hash are dropped", "[messenger]") {
    auto real = genuine(1);
    std::vector<pn::MessageItem> items{forged_copy_of(real), genuine(2)};
    CHECK(drop_forged(mailbox(), kInboxNamespace, items) == 1);
    REQUIRE(items.size() == 1);
    CHECK(items[0] == genuine(2));
    // The same bytes under another mailbox or namespace are not the item named.
    std::vector<pn::MessageItem> elsewhere{genuine(3)};
    CHECK(drop_forged(mailbox(), kInboxNamespace + 1, elsewhere) == 1);
}

TEST_CASE("a forged copy answered first does not shadow the honest copy when members' answers merge", "[messenger]") {
    auto real = genuine(1);
    std::size_t forged = 0;
    auto merged = merge_genuine(mailbox(), kInboxNamespace, {{forged_copy_of(real)}, {real, genuine(2)}, {real}}, &forged);
    CHECK(forged == 1);
    REQUIRE(merged.size() == 2);
    CHECK(merged[0] == real);
    CHECK(merged[1] == genuine(2));
}
