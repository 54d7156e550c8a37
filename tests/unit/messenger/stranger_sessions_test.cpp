#include <catch2/catch.hpp>

#include "account.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;

// Bob, published: what a sender needs to write to him.
struct Bob {
    Account account = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    std::vector<wire::Bytes> lists, bundles;
    Bob() {
        for (const auto& s : account.publish_requests(kNow)) (s.ns == kDeviceListNamespace ? lists : bundles).push_back(s.data);
        account.mark_published(kNow);
    }
    // Sends `n` messages from `from` to Bob; returns their envelopes, oldest first.
    std::vector<wire::Bytes> from(Account& from, int n = 1) {
        auto list = newest_device_list(account.id(), lists, kNow);
        REQUIRE(list);
        auto their = newest_bundles(account.id(), *list, bundles, kNow);
        std::vector<wire::Bytes> out;
        for (int i = 0; i < n; ++i) out.push_back(from.prepare_send(account.id(), *list, their, {}, make_text("hi", kNow), kNow).stores.at(0).data);
        return out;
    }
};
}  // namespace

// Identities cost nothing: five times the cap of strangers' first messages leave Bob with at most
// the cap of sessions for strangers, and his contact's session (the oldest of all) stays.
TEST_CASE("messenger - strangers' sessions are bounded all together, a contact's are kept", "[messenger]") {
    Bob bob;
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto is_accepted = [&](const crypto::VeilId& p) { return p == alice.id(); };
    REQUIRE(bob.account.open(bob.from(alice).at(0), kNow, nullptr, {}, is_accepted));
    REQUIRE(bob.account.session_count(alice.id()) == 1);
    crypto::VeilId last;
    for (std::size_t i = 0; i < 5 * kMaxStrangerSessions; ++i) {
        auto stranger = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
        auto shown = bob.account.open(bob.from(stranger).at(0), kNow, nullptr, {}, is_accepted);
        REQUIRE(shown);  // every first message is still shown (as a request)
        last = stranger.id();
    }
    CHECK(bob.account.session_count() <= kMaxStrangerSessions + 1);
    CHECK(bob.account.session_count(alice.id()) == 1);
    CHECK(bob.account.session_count(last) == 1);
    // Saved and loaded, the strangers' order goes on where it was.
    std::vector<sdk::storage::Entry> entries;
    for (auto& op : bob.account.save_ops()) entries.push_back({op.key, op.value});
    auto reloaded = Account::load(entries);
    auto one_more = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    REQUIRE(reloaded.open(bob.from(one_more).at(0), kNow, nullptr, {}, is_accepted));
    CHECK(reloaded.session_count() <= kMaxStrangerSessions + 1);
    CHECK(reloaded.session_count(alice.id()) == 1);
}

// Each stranger makes Bob keep 999 skipped keys (only its last message of 1,000 arrives): the
// skipped keys held for strangers stay under their cap; Alice's are never counted or dropped.
TEST_CASE("messenger - strangers' skipped keys are bounded all together", "[messenger]") {
    Bob bob;
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto is_accepted = [&](const crypto::VeilId& p) { return p == alice.id(); };
    auto from_alice = bob.from(alice, 1000);
    REQUIRE(bob.account.open(from_alice.back(), kNow, nullptr, {}, is_accepted));
    std::vector<crypto::VeilId> strangers;
    for (int i = 0; i < 30; ++i) {
        auto stranger = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
        REQUIRE(bob.account.open(bob.from(stranger, 1000).back(), kNow, nullptr, {}, is_accepted));
        strangers.push_back(stranger.id());
    }
    std::size_t held = 0;
    for (const auto& s : strangers) held += bob.account.session_count(s);
    CHECK(held == kMaxStrangerSkippedKeys / 999);  // the newest 20 (20 x 999 keys) fit
    CHECK(bob.account.session_count(strangers.front()) == 0);
    CHECK(bob.account.session_count(strangers.back()) == 1);
    // Alice's skipped keys still open her earlier messages.
    CHECK(bob.account.open(from_alice.front(), kNow, nullptr, {}, is_accepted));
}

// Issue 14 review (LOW): one identity with several devices, each skipping 999 keys, used to keep
// them all and could take the whole strangers' budget alone. Past its share it loses its
// sessions; another stranger's and the contact's stay.
TEST_CASE("messenger - one stranger gets at most its share of the skipped keys", "[messenger]") {
    Bob bob;
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto is_accepted = [&](const crypto::VeilId& p) { return p == alice.id(); };
    REQUIRE(bob.account.open(bob.from(alice, 1000).back(), kNow, nullptr, {}, is_accepted));
    auto carol = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    REQUIRE(bob.account.open(bob.from(carol, 1000).back(), kNow, nullptr, {}, is_accepted));
    // Mallory's devices, each writing 1,000 messages of which only the last arrives.
    auto mallory_id = crypto::Identity::generate();
    auto phrase = mallory_id.recovery_phrase();
    auto first = Account::create(std::move(mallory_id), std::nullopt, kNow);
    auto list = first.device_list();
    std::vector<Account> devices;
    devices.push_back(std::move(first));
    for (int i = 0; i < 4; ++i) {
        devices.push_back(Account::create(crypto::Identity::from_phrase(phrase.str()), list, kNow));
        list = devices.back().device_list();
    }
    std::size_t most = 0;
    for (auto& d : devices) {
        REQUIRE(bob.account.open(bob.from(d, 1000).back(), kNow, nullptr, {}, is_accepted));
        most = std::max(most, bob.account.session_count(d.id()) * 999);
    }
    CHECK(most <= kMaxSkippedKeysPerStranger);
    CHECK(bob.account.session_count(carol.id()) == 1);
    CHECK(bob.account.session_count(alice.id()) == 1);
}
