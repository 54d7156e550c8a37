// What a send reads before its store leaves (issue 19): each read is an onion round trip, so an
// established session reads no bundle, a resident client reuses a list younger than
// peer_list_refresh_s, and reads an older one again (issue 14's bound for a revocation).
#include <catch2/catch.hpp>

#include "send_keys.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {
constexpr std::uint64_t kStart = 1'700'000'000'000;
constexpr std::uint64_t kRefreshMs = 600'000;

// The identity swarms, answering at once, counting what a send asks of them; and the clock.
struct Net {
    std::uint64_t now = kStart;
    std::map<std::pair<proto::node::PublicKey, std::uint16_t>, std::vector<wire::Bytes>> boxes;
    int list_reads = 0;
    int bundle_reads = 0;

    void publish(Account& a) {
        for (const auto& s : a.publish_requests(now)) boxes[{s.mailbox, s.ns}].push_back(s.data);
        a.mark_published(now);
    }
    SendKeys keys() {
        return SendKeys(KeyReads{
                            [this](const crypto::VeilId& who, std::function<void(std::vector<crypto::DeviceList>)> done,
                                   Fail fail) {
                                ++list_reads;
                                auto lists = valid_device_lists(who, boxes[{who.x25519, kDeviceListNamespace}], now);
                                if (lists.empty()) return fail({sdk::ErrorCode::not_found, "no device list"});
                                done(std::move(lists));
                            },
                            [this](const crypto::VeilId& who, const crypto::DeviceList& list,
                                   std::function<void(Bundles)> done, Fail) {
                                ++bundle_reads;
                                done(newest_bundles(who, list, boxes[{who.x25519, kBundleNamespace}], now));
                            },
                        },
                        [this] { return now; });
    }
    // One message from `from` to `to`, as the send queue makes it (a run of its own); how many
    // envelopes it made.
    std::size_t send(SendKeys& keys, const AccountPtr& from, const crypto::VeilId& to) {
        list_reads = bundle_reads = 0;
        keys.new_run();
        std::size_t envelopes = 0;
        bool gathered = false;
        keys.gather(from, to, [&](PersonKeys theirs, PersonKeys own) {
            gathered = true;
            auto out = from->prepare_send(to, theirs.list, theirs.bundles, own.bundles, make_text("hi", now), now,
                                          crypto::max_envelope_ttl_ms,
                                          theirs.list_read ? Account::ListSource::read : Account::ListSource::held);
            envelopes = out.stores.size();
        }, [](const sdk::Error& e) { FAIL(e.message); }, [](const sdk::Error& e) { FAIL(e.message); });
        REQUIRE(gathered);
        return envelopes;
    }
    AccountPtr person() {
        auto a = std::make_shared<Account>(Account::create(crypto::Identity::generate(), std::nullopt, now));
        publish(*a);
        return a;
    }
    AccountPtr new_device_of(const Account& a) {
        auto phrase = a.identity().recovery_phrase();
        auto d = std::make_shared<Account>(Account::create(crypto::Identity::from_phrase(phrase.str()), a.device_list(), now));
        publish(*d);
        return d;
    }
};
}  // namespace

TEST_CASE("send keys - an established session's send reads no bundle; the lists are read", "[messenger]") {
    Net net;
    auto alice = net.person();
    auto bob = net.person();
    auto keys = net.keys();  // a one-shot `veil send`: the lists are read for every run

    CHECK(net.send(keys, alice, bob->id()) == 1);
    CHECK(net.list_reads == 2);    // Bob's and our own
    CHECK(net.bundle_reads == 1);  // Bob's: the first message starts the session

    CHECK(net.send(keys, alice, bob->id()) == 1);
    CHECK(net.list_reads == 2);
    CHECK(net.bundle_reads == 0);  // the session exists: nothing to start
}

TEST_CASE("send keys - a device without a session makes the send read bundles", "[messenger]") {
    Net net;
    auto alice = net.person();
    auto bob = net.person();
    auto keys = net.keys();
    net.send(keys, alice, bob->id());

    // Bob adds a laptop: Alice's next send reads his list, sees it, and reads the bundles for it.
    net.new_device_of(*bob);
    CHECK(net.send(keys, alice, bob->id()) == 2);
    CHECK(net.bundle_reads == 1);
}

TEST_CASE("send keys - a resident client reuses a list younger than the refresh period, reads an older one",
          "[messenger]") {
    Net net;
    auto alice = net.person();
    auto bob = net.person();
    auto keys = net.keys();
    keys.reuse_lists_younger_than(kRefreshMs);
    net.send(keys, alice, bob->id());

    net.now += kRefreshMs - 1;
    CHECK(net.send(keys, alice, bob->id()) == 1);
    CHECK(net.list_reads == 0);  // both lists younger than the period: the store leaves at once
    CHECK(net.bundle_reads == 0);
    // A send from the held list does not make it look checked: its age stays what the swarm said.
    CHECK(alice->peer_lists().find(bob->id())->checked_ms == kStart);

    // Bob adds a laptop; once the held lists are as old as the period, both are read again.
    net.new_device_of(*bob);
    net.now += 1;
    CHECK(net.send(keys, alice, bob->id()) == 2);
    CHECK(net.list_reads == 2);
    CHECK(alice->peer_lists().find(bob->id())->checked_ms == net.now);
}

TEST_CASE("send keys - our own list is read again once as old as the refresh period", "[messenger]") {
    Net net;
    auto alice = net.person();
    auto bob = net.person();
    auto keys = net.keys();
    keys.reuse_lists_younger_than(kRefreshMs);
    net.send(keys, alice, bob->id());

    // A new device of ours (bob's list re-read meanwhile, by the receive side): it gets the copy
    // once our own list is as old as the period, not before.
    net.new_device_of(*alice);
    net.now += kRefreshMs - 1;
    CHECK(net.send(keys, alice, bob->id()) == 1);
    net.now += 1;
    (void)alice->peer_lists().accept(bob->id(), bob->device_list(), net.now);
    CHECK(net.send(keys, alice, bob->id()) == 2);  // Bob's device and our new one
    CHECK(net.list_reads == 1);                    // our own only
    CHECK(net.bundle_reads == 1);
}

// Issue 14 second review: a device that published its own list v3L {P, T, L} reads a fork of
// the same version, v3p {P, T revoked}, stored after it. The newest alone would be its own list;
// every list of ours is joined, so the copy of a message to Bob skips the revoked tablet.
TEST_CASE("send keys - every own list read is joined, not only the first of the highest version", "[messenger]") {
    Net net;
    auto bob = net.person();
    auto phone = net.person();
    auto tablet = net.new_device_of(*phone);
    phone->adopt_device_list(tablet->device_list());
    auto laptop = net.new_device_of(*tablet);
    phone->revoke_device(tablet->device().signing_key(), net.now);
    REQUIRE(phone->device_list().version() == laptop->device_list().version());
    net.publish(*phone);
    auto keys = net.keys();

    CHECK(net.send(keys, laptop, bob->id()) == 2);  // Bob and the phone, not the tablet
    CHECK_FALSE(laptop->device_list().is_active(tablet->device().signing_key()));
    CHECK(laptop->device_list().is_active(laptop->device().signing_key()));
}
