#include <catch2/catch.hpp>

#include "sender_order.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {

crypto::PublicKey device(std::uint8_t b) {
    crypto::PublicKey k{};
    k.fill(b);
    return k;
}

const crypto::VeilId& alice() {
    static const auto id = crypto::Identity::generate().veil_id();
    return id;
}

MessageRecord numbered(std::uint64_t seq, const crypto::VeilId& peer = alice()) {
    MessageRecord r;
    r.peer = peer;
    r.from = peer;
    r.message = make_text("m" + std::to_string(seq), 1000 + seq);
    r.message.seq = seq;
    return r;
}

std::vector<std::uint64_t> seqs(const std::vector<MessageRecord>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& r : v) out.push_back(r.message.seq);
    return out;
}

constexpr std::uint64_t kWait = 5000;

}  // namespace

TEST_CASE("sender order - a message that arrives before an earlier one waits for it", "[messenger]") {
    SenderOrder order(kWait);
    CHECK(seqs(order.arrive(device(1), numbered(1), 0)) == std::vector<std::uint64_t>{1});
    CHECK(order.arrive(device(1), numbered(3), 10).empty());
    CHECK(order.arrive(device(1), numbered(4), 20).empty());
    CHECK(order.holding());
    CHECK(order.next_deadline() == 10 + kWait);
    CHECK(order.expire(10 + kWait - 1).empty());
    CHECK(seqs(order.arrive(device(1), numbered(2), 30)) == std::vector<std::uint64_t>{2, 3, 4});
    CHECK_FALSE(order.holding());
    CHECK(seqs(order.arrive(device(1), numbered(5), 40)) == std::vector<std::uint64_t>{5});
}

TEST_CASE("sender order - a gap is given up after the wait, and what fills it late shows at once", "[messenger]") {
    SenderOrder order(kWait);
    CHECK(seqs(order.arrive(device(1), numbered(7), 0)) == std::vector<std::uint64_t>{7});
    CHECK(order.arrive(device(1), numbered(9), 100).empty());
    CHECK(order.arrive(device(1), numbered(10), 200).empty());
    CHECK(order.expire(100 + kWait - 1).empty());
    CHECK(seqs(order.expire(100 + kWait)) == std::vector<std::uint64_t>{9, 10});
    CHECK_FALSE(order.next_deadline());
    // The missing one comes after all: late, shown now rather than never.
    CHECK(seqs(order.arrive(device(1), numbered(8), 9000)) == std::vector<std::uint64_t>{8});
    CHECK(seqs(order.arrive(device(1), numbered(11), 9100)) == std::vector<std::uint64_t>{11});
}

TEST_CASE("sender order - devices and conversations are separate streams; unnumbered messages never wait",
          "[messenger]") {
    SenderOrder order(kWait);
    auto bob = crypto::Identity::generate().veil_id();
    CHECK(seqs(order.arrive(device(1), numbered(1), 0)) == std::vector<std::uint64_t>{1});
    CHECK(order.arrive(device(1), numbered(3), 0).empty());
    // Alice's other device, and the same device in another conversation, have numbers of their own.
    CHECK(seqs(order.arrive(device(2), numbered(5), 0)) == std::vector<std::uint64_t>{5});
    CHECK(seqs(order.arrive(device(1), numbered(1, bob), 0)) == std::vector<std::uint64_t>{1});
    CHECK(seqs(order.arrive(device(1), numbered(0), 0)) == std::vector<std::uint64_t>{0});
    CHECK(seqs(order.release_all()) == std::vector<std::uint64_t>{3});
    CHECK_FALSE(order.holding());
}

TEST_CASE("sender order - a sender with a huge gap holds a bounded number of messages", "[messenger]") {
    SenderOrder order(kWait);
    CHECK(order.arrive(device(1), numbered(1), 0).size() == 1);
    std::size_t shown = 0;
    for (std::uint64_t s = 0; s < SenderOrder::kMaxHeldPerStream; ++s) shown += order.arrive(device(1), numbered(1'000'000 + s), 0).size();
    CHECK(shown == 0);
    auto out = order.arrive(device(1), numbered(2'000'000), 0);
    CHECK(out.size() == SenderOrder::kMaxHeldPerStream + 1);
    CHECK(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.message.seq < b.message.seq; }));
    CHECK_FALSE(order.holding());
    // Numbers far ahead hold nothing past the wait either.
    CHECK(order.arrive(device(1), numbered(5'000'000), 0).empty());
    CHECK(order.expire(kWait).size() == 1);
}
