// GroupBook (docs/groups.md) with every device of five people, two of them with two devices:
// the pairwise sessions are stood in for by handing each control to every device of its
// recipients (they are tested on their own), the group mailboxes by lists of the exact sealed
// envelopes a swarm would hold. Hostile participants: a removed member, a non-admin, a stranger.
#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <set>

#include "../crypto/group_forge.hpp"
#include "group_book.hpp"
#include "group_leave.hpp"

using namespace veil;
using namespace veil::messenger;
using crypto::GroupId;
using crypto::VeilId;

namespace {

template <class F>
crypto::ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const crypto::Error& e) {
        return e.kind();
    }
    return crypto::ErrorKind{};
}

wire::Bytes text(const std::string& s) { return {s.begin(), s.end()}; }
std::string str(const wire::Bytes& b) { return {b.begin(), b.end()}; }

struct Device {
    crypto::DeviceKeys keys = crypto::DeviceKeys::generate();
    crypto::DeviceCertificate cert;
    GroupBook book;
    bool online = true;
    std::deque<std::tuple<VeilId, crypto::PublicKey, wire::Bytes>> inbox;  // controls while offline
    std::map<crypto::PublicKey, std::size_t> cursor;                        // per mailbox
    std::vector<wire::Bytes> waiting;                                       // chain not known yet
    std::vector<std::string> got;                                           // "sender-device-text"
    std::map<std::pair<crypto::PublicKey, std::uint64_t>, std::uint32_t> last_iteration;  // per chain
    Device(const crypto::Identity& who) : cert(crypto::DeviceCertificate::issue(who, keys, 1)), book(who.veil_id()) {}
};

struct Person {
    crypto::Identity identity = crypto::Identity::generate();
    std::vector<std::unique_ptr<Device>> devices;
    explicit Person(int n) {
        for (int i = 0; i < n; ++i) devices.push_back(std::make_unique<Device>(identity));
    }
    const VeilId& id() const { return identity.veil_id(); }
};

// Five people, Alice and Bob with two devices each, and what the network holds.
struct Net {
    std::map<std::string, std::unique_ptr<Person>> people;
    std::map<crypto::PublicKey, std::vector<wire::Bytes>> mailboxes;  // one copy per message

    Net() {
        for (auto [name, n] : {std::pair{"alice", 2}, {"bob", 2}, {"carol", 1}, {"dave", 1}, {"erin", 1}}) {
            people[name] = std::make_unique<Person>(n);
        }
        for (auto& [n, person] : people) publish_devices(*person);
    }
    // Every device learns `person`'s device list, as from its peer list; answers go out.
    void publish_devices(Person& person) {
        std::vector<crypto::PublicKey> keys;
        for (auto& dev : person.devices) keys.push_back(dev->keys.signing_key());
        for (auto& [n, other] : people) {
            for (auto& dev : other->devices) deliver(*dev, dev->book.devices_changed(other->identity, person.id(), keys));
        }
    }
    Person& p(const std::string& name) { return *people.at(name); }
    Device& d(const std::string& name, int i = 0) { return *p(name).devices.at(i); }
    Person& owner_of(const Device& dev) {
        for (auto& [n, person] : people) {
            for (auto& x : person->devices) {
                if (x.get() == &dev) return *person;
            }
        }
        throw std::logic_error("no such device");
    }

    // Hands each control to every device of its recipients but the sender's, as the pairwise
    // fan-out does; answers go out the same way.
    void deliver(Device& from, std::vector<GroupDelivery> out) {
        for (auto& delivery : out) {
            for (const auto& to : delivery.to) {
                for (auto& [n, person] : people) {
                    if (person->id() != to) continue;
                    for (auto& dev : person->devices) {
                        if (dev.get() == &from) continue;
                        wire::Bytes bytes(delivery.payload.view().begin(), delivery.payload.view().end());
                        dev->inbox.emplace_back(owner_of(from).id(), from.keys.signing_key(), std::move(bytes));
                        if (dev->online) process(*dev);
                    }
                }
            }
        }
    }
    // A device handles its pairwise inbox in order; refused controls are dropped.
    void process(Device& dev) {
        while (!dev.inbox.empty()) {
            auto [from, device, bytes] = std::move(dev.inbox.front());
            dev.inbox.pop_front();
            try {
                deliver(dev, dev.book.receive_control(from, device, bytes, true));
            } catch (const crypto::Error&) {
            }
        }
    }
    void send(Device& from, const GroupId& g, const std::string& body) {
        std::vector<GroupDelivery> chains;
        auto env = from.book.send(g, from.cert, text(body), 60'000, chains);
        deliver(from, std::move(chains));  // chains go before the message, as the client sends them
        mailboxes[env.mailbox].push_back(env.encode());
    }
    // Reads every mailbox the device knows for the group, after its cursor; waiting ones are
    // tried again first.
    void read(Device& dev, const GroupId& g) {
        auto retry = std::move(dev.waiting);
        dev.waiting.clear();
        std::vector<wire::Bytes> fresh;
        for (const auto& mbox : dev.book.mailboxes(g)) {
            auto& all = mailboxes[mbox];
            for (auto& i = dev.cursor[mbox]; i < all.size(); ++i) fresh.push_back(all[i]);
        }
        for (auto* list : {&retry, &fresh}) {
            for (auto& env : *list) {
                GroupMessage m;
                try {
                    auto result = dev.book.open(g, env, m);
                    if (result == GroupBook::Opened::waiting) dev.waiting.push_back(env);
                    if (result != GroupBook::Opened::message) continue;
                } catch (const crypto::Error&) {
                    continue;
                }
                const auto chain = std::pair{m.device, m.epoch};
                auto last = dev.last_iteration.find(chain);
                if (last != dev.last_iteration.end() && m.iteration <= last->second) {
                    dev.got.push_back("OUT OF ORDER " + str(m.plaintext));
                }
                dev.last_iteration[chain] = m.iteration;
                dev.got.push_back(str(m.plaintext));
            }
        }
    }
    std::vector<Device*> all_devices() {
        std::vector<Device*> out;
        for (auto& [n, person] : people) {
            for (auto& dev : person->devices) out.push_back(dev.get());
        }
        return out;
    }
};

GroupId make_group(Net& net, const std::vector<std::string>& members) {
    std::vector<VeilId> ids;
    for (const auto& m : members) ids.push_back(net.p(m).id());
    GroupId g{};
    auto out = net.d("alice").book.create(net.p("alice").identity, "friends", ids, 1000, g);
    net.deliver(net.d("alice"), std::move(out));
    return g;
}

crypto::SecretBytes invitation_of(const crypto::GroupState& state) {
    return encode_group_control(GroupControlKind::invitation, encode_group_invitation({&state}).view());
}

std::multiset<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("group book - every device of five people gets every message once, in order per sender",
          "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave", "erin"});
    for (auto* dev : net.all_devices()) REQUIRE(dev->book.state(g) != nullptr);
    CHECK_FALSE(net.d("bob").book.is_request(g));

    std::multiset<std::string> sent;
    for (int round = 0; round < 3; ++round) {
        int k = 0;
        for (auto* dev : net.all_devices()) {
            auto body = "m" + std::to_string(round) + "-" + std::to_string(k++);
            net.send(*dev, g, body);
            sent.insert(body);
        }
    }
    CHECK(net.mailboxes.size() == 1);  // one group mailbox
    CHECK(net.mailboxes.begin()->second.size() == sent.size());  // one stored copy per message
    for (auto* dev : net.all_devices()) {
        net.read(*dev, g);
        net.read(*dev, g);  // reading again brings nothing twice
        // Every message but this device's own, once each, none out of order.
        auto expected = sent;
        for (int round = 0; round < 3; ++round) {
            int k = 0;
            for (auto* other : net.all_devices()) {
                auto body = "m" + std::to_string(round) + "-" + std::to_string(k++);
                if (other == dev) expected.erase(expected.find(body));
            }
        }
        CHECK(as_set(dev->got) == expected);
        CHECK(dev->waiting.empty());
    }
}

TEST_CASE("group book - a removed member reads nothing sent after the removal", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave", "erin"});
    net.send(net.d("bob"), g, "before");
    net.send(net.d("carol"), g, "carol before");
    for (auto* dev : net.all_devices()) net.read(*dev, g);
    CHECK(net.d("carol").got == std::vector<std::string>{"before"});
    const auto old_mailbox = net.d("carol").book.mailboxes(g).front();

    net.deliver(net.d("alice"), net.d("alice").book.remove(net.p("alice").identity, g, {net.p("carol").id()}, 2000));
    for (auto* dev : net.all_devices()) {
        if (dev != &net.d("carol")) CHECK_FALSE(dev->book.state(g)->is_member(net.p("carol").id()));
    }
    net.send(net.d("bob"), g, "after bob");
    net.send(net.d("alice", 1), g, "after alice");
    net.send(net.d("dave"), g, "after dave");

    // Nothing new in the mailbox Carol knows; the new one is elsewhere.
    CHECK(net.mailboxes[old_mailbox].size() == 2);
    net.read(net.d("carol"), g);
    CHECK(net.d("carol").got == std::vector<std::string>{"before"});
    // At the crypto level: every envelope written after the removal, handed to her anyway, is refused.
    for (const auto& [mbox, envelopes] : net.mailboxes) {
        if (mbox == old_mailbox) continue;
        for (const auto& env : envelopes) {
            GroupMessage m;
            CHECK(kind_of([&] { net.d("carol").book.open(g, env, m); }) == crypto::ErrorKind::untrusted_key);
        }
    }
    // The others read it all.
    const auto everything = as_set({"before", "carol before", "after bob", "after alice", "after dave"});
    net.read(net.d("erin"), g);
    CHECK(as_set(net.d("erin").got) == everything);
    net.read(net.d("bob", 1), g);
    CHECK(as_set(net.d("bob", 1).got) == everything);
    // Carol still writes into the old mailbox with her old chain: every member dropped it.
    net.send(net.d("carol"), g, "still here?");
    CHECK(net.mailboxes[old_mailbox].size() == 3);
    for (auto* dev : net.all_devices()) {
        net.read(*dev, g);
        for (const auto& got : dev->got) CHECK(got != "still here?");
    }
}

TEST_CASE("group book - a message re-sealed by another member is refused", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    net.send(net.d("bob"), g, "from bob");
    net.read(net.d("alice"), g);  // Alice now holds Bob's chain
    // Carol opens Bob's envelope with the mailbox key and seals his message again under her name.
    const auto mailbox_keys = net.d("carol").book.state(g)->mailbox_keys();
    const auto original = net.mailboxes.at(mailbox_keys.pub).front();
    net.send(net.d("bob"), g, "second");
    const auto second = crypto::open(crypto::SealedEnvelope::decode(net.mailboxes.at(mailbox_keys.pub).back()),
                                     mailbox_keys.to_dh());
    auto resealed = crypto::seal(net.d("carol").cert, second.message, mailbox_keys.to_dh().pub, mailbox_keys.pub, 0, 60'000);
    GroupMessage m;
    // Under her own certificate it matches no chain her device handed out: never shown.
    CHECK(net.d("alice").book.open(g, resealed.encode(), m) == GroupBook::Opened::waiting);
    // Under a certificate she makes for Bob's device, it is not Bob's identity that signed it.
    auto posing = crypto::DeviceCertificate::issue(net.p("carol").identity, net.d("bob").keys.signing_key(),
                                                   net.d("bob").keys.dh_key(), 1);
    auto as_bob = crypto::seal(posing, second.message, mailbox_keys.to_dh().pub, mailbox_keys.pub, 0, 60'000);
    CHECK(kind_of([&] { net.d("alice").book.open(g, as_bob.encode(), m); }) == crypto::ErrorKind::untrusted_key);
    CHECK(net.d("alice").book.open(g, net.mailboxes.at(mailbox_keys.pub).back(), m) == GroupBook::Opened::message);
    CHECK(str(m.plaintext) == "second");
    CHECK(m.from == net.p("bob").id());
    // And the first envelope again is a replay.
    CHECK(kind_of([&] { net.d("alice").book.open(g, original, m); }) == crypto::ErrorKind::duplicate_message);
}

TEST_CASE("group book - a non-admin's add or remove is refused by every other member", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave", "erin"});
    crypto::Identity mallory = crypto::Identity::generate();
    // Bob's own book will not sign it.
    CHECK(kind_of([&] { (void)net.d("bob").book.add(net.p("bob").identity, g, {mallory.veil_id()}, 2000); }) ==
          crypto::ErrorKind::untrusted_key);
    CHECK(kind_of([&] { (void)net.d("bob").book.remove(net.p("bob").identity, g, {net.p("carol").id()}, 2000); }) ==
          crypto::ErrorKind::untrusted_key);
    // A hostile Bob signs the states himself and sends them to everyone.
    const auto& held = *net.d("bob").book.state(g);
    auto add = crypto::test::draft_of(held);
    add.version = 2;
    add.members.emplace_back(mallory.veil_id(), 1);
    auto remove = crypto::test::draft_of(held);
    remove.version = 2;
    remove.epoch = 2;
    remove.seed[0] ^= 1;
    crypto::test::drop(remove, net.p("carol").id());
    auto promote = crypto::test::draft_of(held);
    promote.version = 2;
    crypto::test::set_role(promote, net.p("bob").id(), 2);
    for (auto* forged : {&add, &remove, &promote}) {
        auto state = crypto::test::forge(*forged, net.p("bob").identity);
        auto payload = encode_group_control(GroupControlKind::state, state.encode().view());
        for (auto* dev : net.all_devices()) {
            if (&net.owner_of(*dev) == &net.p("bob")) continue;
            CHECK(kind_of([&] {
                      (void)dev->book.receive_control(net.p("bob").id(), net.d("bob").keys.signing_key(),
                                                      payload.view(), true);
                  }) == crypto::ErrorKind::untrusted_key);
            CHECK(dev->book.state(g)->version() == 1);
            CHECK(dev->book.state(g)->is_member(net.p("carol").id()));
            CHECK_FALSE(dev->book.state(g)->is_member(mallory.veil_id()));
        }
    }
    // A stranger's chain is not taken, and a stranger cannot bring someone else's invitation.
    auto chain = crypto::SenderChain::create(g, 1);
    auto chain_payload = encode_group_control(GroupControlKind::chain, chain.distribution().encode().view());
    CHECK(kind_of([&] {
              (void)net.d("carol").book.receive_control(mallory.veil_id(), crypto::PublicKey{}, chain_payload.view(), true);
          }) == crypto::ErrorKind::untrusted_key);
    auto other = crypto::GroupState::create(net.p("alice").identity, "other", {net.p("carol").id()}, 1000);
    auto invite = invitation_of(other);
    CHECK(kind_of([&] {
              (void)net.d("carol").book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invite.view(), true);
          }) == crypto::ErrorKind::untrusted_key);
    // An invitation that does not list us is refused, whoever signed it.
    auto without = crypto::GroupState::create(mallory, "not you", {net.p("dave").id()}, 1000);
    auto not_us = invitation_of(without);
    CHECK(kind_of([&] {
              (void)net.d("carol").book.receive_control(mallory.veil_id(), crypto::PublicKey{}, not_us.view(), true);
          }) == crypto::ErrorKind::invalid_argument);
    CHECK(net.d("carol").book.state(without.group_id()) == nullptr);
    // From a stranger to us, an invitation is a request.
    auto strangers = crypto::GroupState::create(mallory, "spam", {net.p("carol").id()}, 1000);
    auto spam = invitation_of(strangers);
    (void)net.d("carol").book.receive_control(mallory.veil_id(), crypto::PublicKey{}, spam.view(), false);
    CHECK(net.d("carol").book.is_request(strangers.group_id()));
}

TEST_CASE("group book - a member offline during two membership changes and 20 messages catches up",
          "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.send(net.d("dave"), g, "dave was here");
    net.d("dave").online = false;
    std::vector<std::string> expected;
    for (int i = 0; i < 5; ++i) {
        net.send(net.d("bob"), g, "b" + std::to_string(i));
        expected.push_back("b" + std::to_string(i));
    }
    net.deliver(net.d("alice"), net.d("alice").book.add(net.p("alice").identity, g, {net.p("erin").id()}, 2000));
    for (int i = 0; i < 5; ++i) {
        net.send(net.d("alice", 1), g, "a" + std::to_string(i));
        expected.push_back("a" + std::to_string(i));
    }
    net.deliver(net.d("alice"), net.d("alice").book.remove(net.p("alice").identity, g, {net.p("carol").id()}, 3000));
    for (int i = 0; i < 5; ++i) {
        net.send(net.d("bob", 1), g, "c" + std::to_string(i));
        net.send(net.d("erin"), g, "e" + std::to_string(i));
        expected.push_back("c" + std::to_string(i));
        expected.push_back("e" + std::to_string(i));
    }
    REQUIRE(expected.size() == 20);
    CHECK(net.d("dave").book.state(g)->version() == 1);

    net.d("dave").online = true;
    net.process(net.d("dave"));
    CHECK(net.d("dave").book.state(g)->version() == 3);
    CHECK(net.d("dave").book.state(g)->is_member(net.p("erin").id()));
    net.read(net.d("dave"), g);
    CHECK(as_set(net.d("dave").got) == as_set(expected));
    CHECK(net.d("dave").waiting.empty());
    // And the newcomer read nothing from before her join.
    net.read(net.d("erin"), g);
    for (const auto& got : net.d("erin").got) CHECK(got[0] != 'b');
    CHECK(as_set(net.d("erin").got) == as_set({"a0", "a1", "a2", "a3", "a4", "c0", "c1", "c2", "c3", "c4"}));
}

TEST_CASE("group book - a state whose predecessor is late waits, then applies", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    const auto alice_key = net.d("alice").keys.signing_key();
    const auto bob_key = net.d("bob").keys.signing_key();
    auto v1 = invitation_of(*net.d("carol").book.state(g));
    auto v2 = net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000);
    auto v2_payload = v2.front().payload.clone();
    net.deliver(net.d("alice"), std::move(v2));
    // Bob, admin since v2, removes Carol: v3 is signed by someone who was no admin in v1.
    auto v3 = net.d("bob").book.remove(net.p("bob").identity, g, {net.p("carol").id()}, 3000);

    GroupBook late(net.p("alice").id());  // a device that gets v3 before v2
    (void)late.receive_control(net.p("alice").id(), alice_key, v1.view(), true);
    (void)late.receive_control(net.p("bob").id(), bob_key, v3.front().payload.view(), true);
    CHECK(late.state(g)->version() == 1);
    (void)late.receive_control(net.p("alice").id(), alice_key, v2_payload.view(), true);
    CHECK(late.state(g)->version() == 3);
    CHECK_FALSE(late.state(g)->is_member(net.p("carol").id()));
    CHECK(late.mailboxes(g).size() == 2);  // the new mailbox and the previous epoch's
}

TEST_CASE("group book - a device's groups survive storage", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    net.send(net.d("bob"), g, "one");
    net.send(net.d("alice"), g, "mine");
    net.read(net.d("alice"), g);
    net.deliver(net.d("alice"), net.d("alice").book.remove(net.p("alice").identity, g, {net.p("carol").id()}, 2000));

    auto ops = net.d("alice").book.save_ops("messenger");
    std::erase_if(ops, [](const auto& op) { return op.kind == sdk::storage::BatchOp::Kind::erase; });  // no leave notices
    REQUIRE(ops.size() == 2);  // the group and the device lists
    CHECK(ops.front().key.rfind(kGroupPrefix, 0) == 0);
    CHECK(ops.back().key == kGroupDevicesKey);
    std::vector<sdk::storage::Entry> entries{{ops.front().key, ops.front().value}, {ops.back().key, ops.back().value}};
    net.d("alice").book = GroupBook::load(net.p("alice").id(), entries);
    for (auto& [n, person] : net.people) net.publish_devices(*person);  // the client's peer lists
    CHECK(net.d("alice").book.state(g)->version() == 2);
    CHECK(net.d("alice").book.mailboxes(g).size() == 2);

    net.send(net.d("bob"), g, "two");
    net.send(net.d("alice"), g, "after load");
    net.read(net.d("alice"), g);
    CHECK(net.d("alice").got == std::vector<std::string>{"one", "two"});
    net.read(net.d("bob", 1), g);
    CHECK(as_set(net.d("bob", 1).got) == as_set({"one", "mine", "two", "after load"}));

    auto damaged = entries;
    damaged.front().value.pop_back();
    CHECK(kind_of([&] { (void)GroupBook::load(net.p("alice").id(), damaged); }) == crypto::ErrorKind::malformed);
}

TEST_CASE("group book - a member passing on another's chain as its own changes nothing", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    std::vector<GroupDelivery> chains;
    auto env = net.d("bob").book.send(g, net.d("bob").cert, text("hi from bob"), 60'000, chains);
    REQUIRE(chains.size() == 1);
    auto& alice = net.d("alice").book;
    // Carol got Bob's chain and hands it to Alice first, as hers.
    (void)alice.receive_control(net.p("carol").id(), net.d("carol").keys.signing_key(), chains.front().payload.view(), true);
    GroupMessage m;
    CHECK(alice.open(g, env.encode(), m) == GroupBook::Opened::waiting);  // not Carol's, not yet Bob's
    (void)alice.receive_control(net.p("bob").id(), net.d("bob").keys.signing_key(), chains.front().payload.view(), true);
    REQUIRE(alice.open(g, env.encode(), m) == GroupBook::Opened::message);
    CHECK(m.from == net.p("bob").id());
    CHECK(str(m.plaintext) == "hi from bob");
}

TEST_CASE("group book - a member's forged state does not capture a newcomer", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    auto frank = crypto::Identity::generate();
    GroupBook franks(frank.veil_id());
    // Dave, a plain member, signs the next version of the group naming himself admin and adding
    // Frank, with a mailbox of his own: it verifies on its own.
    auto claim = crypto::test::draft_of(*net.d("dave").book.state(g));
    claim.version += 1;
    claim.epoch += 1;
    claim.seed[0] ^= 1;
    crypto::test::set_role(claim, net.p("dave").id(), 2);
    claim.members.emplace_back(frank.veil_id(), 1);
    auto forged = crypto::test::forge(claim, net.p("dave").identity);
    CHECK_NOTHROW(forged.verify_self());
    const auto dave_key = net.d("dave").keys.signing_key();
    // As an invitation on its own, as the last of the real history, or as a bare state: refused.
    CHECK(kind_of([&] { (void)franks.receive_control(net.p("dave").id(), dave_key, invitation_of(forged).view(), true); }) ==
          crypto::ErrorKind::untrusted_key);
    const auto genesis = net.d("dave").book.state(g)->public_copy();
    auto chained = encode_group_control(GroupControlKind::invitation, encode_group_invitation({&genesis, &forged}).view());
    CHECK(kind_of([&] { (void)franks.receive_control(net.p("dave").id(), dave_key, chained.view(), true); }) ==
          crypto::ErrorKind::untrusted_key);
    auto bare = encode_group_control(GroupControlKind::state, forged.encode().view());
    CHECK(kind_of([&] { (void)franks.receive_control(net.p("dave").id(), dave_key, bare.view(), true); }) ==
          crypto::ErrorKind::untrusted_key);
    CHECK(franks.state(g) == nullptr);
    // Alice's real invitation is taken, with the history it chains from.
    auto out = net.d("alice").book.add(net.p("alice").identity, g, {frank.veil_id()}, 2000);
    REQUIRE(out.size() == 2);
    CHECK(out[1].to == std::vector<VeilId>{frank.veil_id()});
    (void)franks.receive_control(net.p("alice").id(), net.d("alice").keys.signing_key(), out[1].payload.view(), true);
    REQUIRE(franks.state(g) != nullptr);
    CHECK(franks.state(g)->version() == 2);
    CHECK(franks.state(g)->is_admin(net.p("alice").id()));
    CHECK_FALSE(franks.state(g)->is_admin(net.p("dave").id()));
    // Invitations are bounded on both sides.
    std::vector<const crypto::GroupState*> long_history(crypto::GroupState::max_history + 1, &genesis);
    CHECK(kind_of([&] { (void)encode_group_invitation(long_history); }) == crypto::ErrorKind::too_large);
    long_history.pop_back();
    auto body = encode_group_invitation(long_history);
    wire::Bytes longer(body.view().begin(), body.view().end());
    longer[0] = 0x03;
    longer[1] = 0xe9;  // claims 1,001 states
    CHECK(kind_of([&] { (void)decode_group_invitation(longer); }) == crypto::ErrorKind::malformed);
}

TEST_CASE("group book - a newcomer cannot open what was sent before its join", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    net.send(net.d("bob"), g, "before erin");
    const auto before = net.d("alice").book.mailboxes(g).back();
    net.deliver(net.d("alice"), net.d("alice").book.add(net.p("alice").identity, g, {net.p("erin").id()}, 2000));
    CHECK(net.d("erin").book.mailboxes(g).size() == 1);
    CHECK(net.d("erin").book.mailboxes(g).front() != before);
    // Handed the envelope anyway, she cannot even open it (the sealed sender stays hidden).
    GroupMessage m;
    CHECK(kind_of([&] { (void)net.d("erin").book.open(g, net.mailboxes.at(before).front(), m); }) ==
          crypto::ErrorKind::untrusted_key);
    net.send(net.d("bob"), g, "after erin");
    net.read(net.d("erin"), g);
    CHECK(net.d("erin").got == std::vector<std::string>{"after erin"});
    net.read(net.d("carol"), g);  // the others read both epochs
    CHECK(as_set(net.d("carol").got) == as_set({"before erin", "after erin"}));
}

TEST_CASE("group book - an admin cannot remove itself and keep the new mailbox", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob"});
    CHECK(kind_of([&] { (void)net.d("alice").book.remove(net.p("alice").identity, g, {net.p("alice").id()}, 2000); }) ==
          crypto::ErrorKind::invalid_argument);
    CHECK(net.d("alice").book.state(g)->version() == 1);
    CHECK(net.d("alice").book.mailboxes(g).size() == 1);
}

TEST_CASE("group book - a revoked device reads and writes nothing more", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.send(net.d("bob", 1), g, "from bob's laptop");
    for (auto* dev : net.all_devices()) net.read(*dev, g);
    CHECK(net.d("carol").got == std::vector<std::string>{"from bob's laptop"});
    // Bob revokes his laptop: it leaves his device list (no pairwise session reaches it now).
    auto laptop = std::move(net.p("bob").devices.at(1));
    net.p("bob").devices.pop_back();
    const auto old_mailbox = net.d("carol").book.mailboxes(g).back();
    net.publish_devices(net.p("bob"));  // Alice, the first admin, rotates
    CHECK(net.d("carol").book.state(g)->epoch() >= 2);  // Alice's second device may rotate once more
    CHECK(net.d("carol").book.mailboxes(g).back() != old_mailbox);
    CHECK(net.d("alice", 1).book.state(g)->encode().equals(net.d("alice").book.state(g)->encode().view()));

    // The laptop writes with its chain into the mailbox it knows: nobody reads it.
    std::vector<GroupDelivery> chains;
    auto env = laptop->book.send(g, laptop->cert, text("still bob?"), 60'000, chains);
    CHECK(chains.empty());
    net.mailboxes[env.mailbox].push_back(env.encode());
    // A fresh chain it hands out is refused.
    auto fresh = crypto::SenderChain::create(g, 2);
    auto offer = encode_group_control(GroupControlKind::chain, fresh.distribution().encode().view());
    CHECK(kind_of([&] { (void)net.d("carol").book.receive_control(net.p("bob").id(), laptop->keys.signing_key(), offer.view(), true); }) ==
          crypto::ErrorKind::revoked);
    net.send(net.d("bob"), g, "from bob's phone");
    net.send(net.d("carol"), g, "from carol");
    for (auto* dev : net.all_devices()) {
        net.read(*dev, g);
        for (const auto& got : dev->got) CHECK(got != "still bob?");
    }
    CHECK(net.d("dave").got == std::vector<std::string>{"from bob's laptop", "from bob's phone", "from carol"});
    // What was sent after the rotation is not the laptop's to open.
    for (const auto& e : net.mailboxes.at(net.d("carol").book.mailboxes(g).back())) {
        GroupMessage m;
        CHECK(kind_of([&] { (void)laptop->book.open(g, e, m); }) == crypto::ErrorKind::untrusted_key);
    }
}

TEST_CASE("group book - strangers and members cannot crowd out others' waiting items", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    auto& carol = net.d("carol").book;
    crypto::Identity mallory = crypto::Identity::generate();
    // Orphan chains: Bob's chain of a group whose invitation is late, then a stranger's flood.
    auto frank = crypto::Identity::generate();
    GroupId g2{};
    auto invite = net.d("bob").book.create(net.p("bob").identity, "late", {net.p("carol").id()}, 1000, g2);
    std::vector<GroupDelivery> bobs_chain;
    (void)net.d("bob").book.send(g2, net.d("bob").cert, text("x"), 60'000, bobs_chain);
    (void)carol.receive_control(net.p("bob").id(), net.d("bob").keys.signing_key(), bobs_chain.front().payload.view(), true);
    for (int i = 0; i < 200; ++i) {
        GroupId random{};
        random[0] = static_cast<std::uint8_t>(i);
        auto chain = crypto::SenderChain::create(random, 1);
        auto payload = encode_group_control(GroupControlKind::chain, chain.distribution().encode().view());
        (void)carol.receive_control(mallory.veil_id(), crypto::PublicKey{}, payload.view(), false);
    }
    (void)carol.receive_control(net.p("bob").id(), net.d("bob").keys.signing_key(), invite.front().payload.view(), true);
    CHECK(carol.chain_count(g2) == 1);

    // Pending states: Alice's v3 comes before v2, then Dave floods self-signed later versions.
    auto v2 = net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000);
    auto v3 = net.d("alice").book.remove(net.p("alice").identity, g, {net.p("dave").id()}, 3000);
    const auto alice_key = net.d("alice").keys.signing_key();
    (void)carol.receive_control(net.p("alice").id(), alice_key, v3.front().payload.view(), true);
    auto flood = crypto::test::draft_of(*carol.state(g));
    crypto::test::set_role(flood, net.p("dave").id(), 2);
    for (std::uint64_t v = 5; v < 40; ++v) {
        flood.version = v;
        auto payload = encode_group_control(GroupControlKind::state, crypto::test::forge(flood, net.p("dave").identity).encode().view());
        (void)carol.receive_control(net.p("dave").id(), net.d("dave").keys.signing_key(), payload.view(), true);
    }
    (void)carol.receive_control(net.p("alice").id(), alice_key, v2.front().payload.view(), true);
    CHECK(carol.state(g)->version() == 3);
    CHECK_FALSE(carol.state(g)->is_member(net.p("dave").id()));

    // Requests: one stranger holds at most 4; others still reach us, up to the total.
    for (int i = 0; i < 6; ++i) {
        auto spam = crypto::GroupState::create(mallory, "spam", {net.p("carol").id()}, 1000);
        const auto kind = kind_of([&] { (void)carol.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(spam).view(), false); });
        CHECK(kind == (i < 4 ? crypto::ErrorKind{} : crypto::ErrorKind::too_large));
    }
    auto franks = crypto::GroupState::create(frank, "hello", {net.p("carol").id()}, 1000);
    (void)carol.receive_control(frank.veil_id(), crypto::PublicKey{}, invitation_of(franks).view(), false);
    CHECK(carol.is_request(franks.group_id()));
}

namespace {

std::vector<sdk::storage::Entry> stored(const GroupBook& book) {
    std::vector<sdk::storage::Entry> out;
    for (auto& op : book.save_ops("messenger")) {
        if (op.kind == sdk::storage::BatchOp::Kind::put) out.push_back({op.key, op.value});
    }
    return out;
}

// A database the book is saved into again and again: puts and erases applied in turn.
struct Db {
    std::map<std::string, decltype(sdk::storage::Entry::value)> rows;
    void save(const GroupBook& book) {
        for (auto& op : book.save_ops("messenger")) {
            if (op.kind == sdk::storage::BatchOp::Kind::put) rows[op.key] = op.value;
            else rows.erase(op.key);
        }
    }
    [[nodiscard]] std::vector<sdk::storage::Entry> entries() const {
        std::vector<sdk::storage::Entry> out;
        for (const auto& [k, v] : rows) out.push_back({k, v});
        return out;
    }
};

// Every online device's group state, for the group, is the same signed one as `dev`'s.
void check_agree(Net& net, const Device& ref, const GroupId& g) {
    for (auto* dev : net.all_devices()) {
        if (!dev->online || dev->book.state(g) == nullptr || !dev->book.state(g)->is_member(net.owner_of(*dev).id())) continue;
        CHECK(dev->book.state(g)->same_signed(*ref.book.state(g)));
    }
}

}  // namespace

TEST_CASE("group book - a newcomer a removed admin invited into its fork takes the real group", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000));
    // Alice removes Bob (v3); Bob is not told, and Dave is offline.
    net.d("dave").online = false;
    net.deliver(net.d("alice"), net.d("alice").book.remove(net.p("alice").identity, g, {net.p("bob").id()}, 3000));
    // Bob signs his own v3 over v2, adding Erin, and sends it to everyone he knows.
    net.deliver(net.d("bob"), net.d("bob").book.add(net.p("bob").identity, g, {net.p("erin").id()}, 3000));
    REQUIRE(net.d("erin").book.state(g) != nullptr);
    CHECK(net.d("erin").book.state(g)->signer() == net.p("bob").id());  // Erin holds the fork
    CHECK_FALSE(net.d("carol").book.state(g)->is_member(net.p("erin").id()));  // Carol keeps the real v3
    // Dave gets the fork first, then the real v3: the branch that removed the fork's signer wins.
    std::reverse(net.d("dave").inbox.begin(), net.d("dave").inbox.end());
    net.d("dave").online = true;
    net.process(net.d("dave"));
    CHECK(net.d("dave").book.state(g)->same_signed(*net.d("alice").book.state(g)));
    // Alice invites Erin for real: Erin leaves Bob's fork for the real group.
    net.deliver(net.d("alice"), net.d("alice").book.add(net.p("alice").identity, g, {net.p("erin").id()}, 4000));
    REQUIRE(net.d("erin").book.state(g)->version() == 4);
    CHECK(net.d("erin").book.state(g)->signer() == net.p("alice").id());
    CHECK_FALSE(net.d("erin").book.state(g)->is_member(net.p("bob").id()));
    for (auto& dev : net.p("bob").devices) dev->online = false;
    check_agree(net, net.d("alice"), g);
    net.send(net.d("carol"), g, "hello erin");
    net.send(net.d("erin"), g, "hello all");
    net.read(net.d("erin"), g);
    net.read(net.d("dave"), g);
    CHECK(net.d("erin").got == std::vector<std::string>{"hello erin"});
    CHECK(net.d("dave").got == std::vector<std::string>{"hello erin", "hello all"});
}

TEST_CASE("group book - a revocation is seen after a restart", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    for (auto* dev : {&net.d("alice", 1)}) dev->online = false;
    // Alice's phone restarts from storage; meanwhile Bob revokes his laptop.
    net.d("alice").book = GroupBook::load(net.p("alice").id(), stored(net.d("alice").book));
    auto laptop = std::move(net.p("bob").devices.at(1));
    net.p("bob").devices.pop_back();
    const auto old_mailbox = net.d("carol").book.mailboxes(g).back();
    auto out = net.d("alice").book.devices_changed(net.p("alice").identity, net.p("bob").id(),
                                                   {net.d("bob").keys.signing_key()});
    REQUIRE(out.size() == 1);  // the rotation
    net.deliver(net.d("alice"), std::move(out));
    CHECK(net.d("carol").book.state(g)->epoch() == 2);
    CHECK(net.d("carol").book.mailboxes(g).back() != old_mailbox);
    CHECK(laptop->book.state(g)->epoch() == 1);
    // Stored lists are bounded and checked on load.
    auto entries = stored(net.d("alice").book);
    auto devices = std::find_if(entries.begin(), entries.end(), [](const auto& e) { return e.key == kGroupDevicesKey; });
    REQUIRE(devices != entries.end());
    devices->value.pop_back();
    CHECK(kind_of([&] { (void)GroupBook::load(net.p("alice").id(), entries); }) == crypto::ErrorKind::malformed);
}

TEST_CASE("group book - any admin rotates when the first one is offline, and racing rotations agree", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("carol").id(), 2000));
    // The admin with the lower ID (the only one that rotated before) is offline.
    const bool alice_first = net.p("alice").id() < net.p("carol").id();
    Person& first = net.p(alice_first ? "alice" : "carol");
    Person& second = net.p(alice_first ? "carol" : "alice");
    for (auto& dev : first.devices) dev->online = false;
    auto laptop = std::move(net.p("bob").devices.at(1));
    net.p("bob").devices.pop_back();
    std::vector<crypto::PublicKey> keys{net.d("bob").keys.signing_key()};
    for (auto* dev : net.all_devices()) {
        if (dev->online) net.deliver(*dev, dev->book.devices_changed(net.owner_of(*dev).identity, net.p("bob").id(), keys));
    }
    CHECK(net.d("dave").book.state(g)->epoch() >= 2);
    CHECK(net.d("dave").book.state(g)->signer() == second.id());
    check_agree(net, *second.devices.front(), g);
    // The first admin comes back and catches up. Then both admins rotate from the same version
    // at once (the first on its own view of the revocation, the second on a new one): every
    // device keeps the same rotation.
    for (auto& dev : first.devices) {
        dev->online = true;
        net.process(*dev);
    }
    check_agree(net, *second.devices.front(), g);
    const auto before = net.d("dave").book.state(g)->version();
    auto with_laptop = keys;
    with_laptop.push_back(laptop->keys.signing_key());
    (void)second.devices.front()->book.devices_changed(second.identity, net.p("bob").id(), with_laptop);
    auto by_second = second.devices.front()->book.devices_changed(second.identity, net.p("bob").id(), keys);
    auto by_first = first.devices.front()->book.devices_changed(first.identity, net.p("bob").id(), keys);
    REQUIRE(by_first.size() == 1);
    REQUIRE(by_second.size() == 1);
    net.deliver(*first.devices.front(), std::move(by_first));
    net.deliver(*second.devices.front(), std::move(by_second));
    CHECK(net.d("dave").book.state(g)->version() == before + 1);
    check_agree(net, net.d("dave"), g);
    net.send(net.d("bob"), g, "after the rotations");
    net.read(net.d("dave"), g);
    net.read(*first.devices.front(), g);
    CHECK(net.d("dave").got == std::vector<std::string>{"after the rotations"});
    CHECK(first.devices.front()->got == std::vector<std::string>{"after the rotations"});
    for (const auto& mbox : net.d("dave").book.mailboxes(g)) {
        for (const auto& e : net.mailboxes[mbox]) {
            GroupMessage m;
            CHECK(kind_of([&] { (void)laptop->book.open(g, e, m); }) == crypto::ErrorKind::untrusted_key);
        }
    }
}

TEST_CASE("group book - a history past 1,000 versions is compacted, stored, and newcomers still join", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    auto& alice = net.d("alice").book;
    const auto& me = net.p("alice").identity;
    for (int i = 0; i < 1100; ++i) {
        const std::vector<VeilId> carol{net.p("carol").id()};
        (void)(i % 2 == 0 ? alice.remove(me, g, carol, 2000 + i) : alice.add(me, g, carol, 2000 + i));
    }
    (void)alice.make_admin(me, g, net.p("bob").id(), 5000);
    REQUIRE(alice.state(g)->version() == 1102);
    auto entries = stored(alice);
    std::size_t bytes = 0;
    for (const auto& e : entries) bytes += e.value.size();
    CHECK(bytes < 16 * 1024);  // the genesis and the last 32 versions, not 1,101
    net.d("alice").book = GroupBook::load(net.p("alice").id(), entries);
    net.deliver(net.d("alice"), net.d("alice").book.add(me, g, {net.p("erin").id()}, 6000));
    REQUIRE(net.d("erin").book.state(g) != nullptr);
    CHECK(net.d("erin").book.state(g)->version() == 1103);
    CHECK(net.d("erin").book.state(g)->is_admin(net.p("bob").id()));
    // Bob's devices were given none of the 1,100 states: the newest one waits for them.
    CHECK(net.d("bob").book.state(g)->version() == 1);
}

TEST_CASE("group book - waiting states: strangers to the admins never crowd out theirs, and the one needed next stays",
          "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    auto& alice = net.d("alice").book;
    const auto& me = net.p("alice").identity;
    auto v2 = alice.make_admin(me, g, net.p("bob").id(), 2000);
    auto v3 = alice.remove(me, g, {net.p("dave").id()}, 3000);
    auto v4 = alice.add(me, g, {net.p("dave").id()}, 4000);
    auto v5 = alice.remove(me, g, {net.p("dave").id()}, 5000);
    GroupBook carol(net.p("carol").id());
    const auto alice_key = net.d("alice").keys.signing_key();
    (void)carol.receive_control(net.p("alice").id(), alice_key, invitation_of(*net.d("carol").book.state(g)).view(), true);
    for (auto* out : {&v3, &v4, &v5}) (void)carol.receive_control(net.p("alice").id(), alice_key, out->front().payload.view(), true);
    // Fresh identities, each naming itself admin in later versions, fill every waiting slot.
    for (int i = 0; i < 20; ++i) {
        auto mallory = crypto::Identity::generate();
        auto claim = crypto::test::draft_of(*carol.state(g));
        claim.version = 3 + static_cast<std::uint64_t>(i % 3);
        claim.members.emplace_back(mallory.veil_id(), 2);
        auto forged = encode_group_control(GroupControlKind::state, crypto::test::forge(claim, mallory).encode().view());
        (void)carol.receive_control(mallory.veil_id(), crypto::PublicKey{}, forged.view(), true);
    }
    (void)carol.receive_control(net.p("alice").id(), alice_key, v2.front().payload.view(), true);
    CHECK(carol.state(g)->version() == 4);  // v3 and v4 waited; v5, over Alice's quota of 2, went
    CHECK(carol.state(g)->signer() == net.p("alice").id());
}

TEST_CASE("group book - group requests expire and are bounded in bytes", "[messenger][group]") {
    auto carol = crypto::Identity::generate();
    GroupBook book(carol.veil_id());
    auto mallory = crypto::Identity::generate();
    auto spam = crypto::GroupState::create(mallory, "spam", {carol.veil_id()}, 1000);
    (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(spam).view(), false);
    book.expire_requests(50'000);
    CHECK(book.is_request(spam.group_id()));
    // When it was first seen is stored: a restart does not start its 14 days again.
    auto reloaded = GroupBook::load(carol.veil_id(), stored(book));
    reloaded.expire_requests(60'000);
    CHECK(reloaded.is_request(spam.group_id()));
    reloaded.expire_requests(50'000 + GroupBook::request_ttl_ms + 1);
    CHECK(reloaded.state(spam.group_id()) == nullptr);
    book.expire_requests(50'000 + GroupBook::request_ttl_ms + 1);
    CHECK(book.state(spam.group_id()) == nullptr);
    // Five strangers, each with a 1,000-member group and a 30-state line (about 1 MB each): the
    // fifth is over 4 MiB in all.
    std::vector<VeilId> crowd{carol.veil_id()};
    for (int i = 0; i < 998; ++i) {
        VeilId id{};
        id.x25519[0] = static_cast<std::uint8_t>(i);
        id.x25519[1] = static_cast<std::uint8_t>(i >> 8);
        crowd.push_back(id);
    }
    for (int s = 0; s < 5; ++s) {
        auto stranger = crypto::Identity::generate();
        std::vector<crypto::GroupState> line;
        line.push_back(crypto::GroupState::create(stranger, "big", crowd, 1000));
        while (line.size() < 30) line.push_back(line.back().with_rotated(stranger));
        std::vector<const crypto::GroupState*> ptrs;
        for (std::size_t i = 0; i + 1 < line.size(); ++i) line[i] = line[i].public_copy();
        for (const auto& st : line) ptrs.push_back(&st);
        auto payload = encode_group_control(GroupControlKind::invitation, encode_group_invitation(ptrs).view());
        const auto kind = kind_of([&] { (void)book.receive_control(stranger.veil_id(), crypto::PublicKey{}, payload.view(), false); });
        CHECK(kind == (s < 4 ? crypto::ErrorKind{} : crypto::ErrorKind::too_large));
    }
}

TEST_CASE("group book - a removed member can be added again", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    const auto& me = net.p("alice").identity;
    net.deliver(net.d("alice"), net.d("alice").book.remove(me, g, {net.p("carol").id()}, 2000));
    CHECK(net.d("carol").book.state(g)->version() == 1);  // never told
    net.deliver(net.d("alice"), net.d("alice").book.add(me, g, {net.p("carol").id()}, 3000));
    REQUIRE(net.d("carol").book.state(g)->version() == 3);  // the invitation's line extends hers
    check_agree(net, net.d("alice"), g);
    net.send(net.d("bob"), g, "welcome back");
    net.read(net.d("carol"), g);
    CHECK(net.d("carol").got == std::vector<std::string>{"welcome back"});
}

namespace {

// A net where `low` has a lower Veil ID than `high`: the fixed order of forks would favour `low`.
std::unique_ptr<Net> net_where(const std::string& low, const std::string& high) {
    auto net = std::make_unique<Net>();
    while (!(net->p(low).id() < net->p(high).id())) net = std::make_unique<Net>();
    return net;
}

void control_from(Device& to, Net& net, const std::string& from, wire::ByteView payload) {
    to.book.receive_control(net.p(from).id(), net.d(from).keys.signing_key(), payload, true);
}

}  // namespace

TEST_CASE("group book - a removed admin's made-up line or fork captures no member", "[messenger][group]") {
    // Review, HIGH 1: Bob (the lower ID, so the fixed order alone would keep his branch) is an
    // admin at v2; Alice removes him at v3. Carol holds v3, Dave (offline) only v2.
    auto owner = net_where("bob", "alice");
    auto& net = *owner;
    auto g = make_group(net, {"bob", "carol", "dave"});
    auto v1 = net.d("alice").book.state(g)->public_copy();
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000));
    auto v2 = net.d("alice").book.state(g)->public_copy();
    net.d("dave").online = false;
    for (auto& dev : net.p("bob").devices) dev->online = false;  // Bob is not told
    net.deliver(net.d("alice"), net.d("alice").book.remove(net.p("alice").identity, g, {net.p("bob").id()}, 3000));
    auto real3 = net.d("carol").book.state(g)->clone();
    REQUIRE(real3.version() == 3);
    // Bob's invitation: v1, v2, then a made-up state at the top of the range, Alice removed and a
    // mailbox of his own.
    auto fake = crypto::test::draft_of(v2);
    fake.version = crypto::GroupState::max_version;
    fake.epoch = v2.epoch() + 1;
    crypto::test::drop(fake, net.p("alice").id());
    fake.seed[0] ^= 1;
    auto made_up = crypto::test::forge(fake, net.p("bob").identity);
    auto jump = encode_group_control(GroupControlKind::invitation, encode_group_invitation(std::vector<const crypto::GroupState*>{&v1, &v2, &made_up}).view());
    // Carol, who holds v3, and Dave, who holds only v2, refuse it: a member takes one version at
    // a time, never a jump.
    CHECK(kind_of([&] { control_from(net.d("carol"), net, "bob", jump.view()); }) != crypto::ErrorKind{});
    CHECK(net.d("carol").book.state(g)->same_signed(real3));
    CHECK(kind_of([&] { control_from(net.d("dave"), net, "bob", jump.view()); }) == crypto::ErrorKind::too_many_skipped);
    CHECK(net.d("dave").book.state(g)->version() == 2);
    // Bob's one-step fork over v2 removing Alice: it outranks Alice's v3 by Bob's lower ID, but
    // Carol saw Bob removed and refuses a branch he began.
    auto fork = crypto::test::draft_of(v2);
    fork.version = 3;
    fork.epoch = v2.epoch() + 1;
    crypto::test::drop(fork, net.p("alice").id());
    fork.seed[0] ^= 2;
    auto fork3 = crypto::test::forge(fork, net.p("bob").identity);
    REQUIRE(crypto::GroupState::prefers(v2, {&real3}, {&fork3}));
    auto fork_control = encode_group_control(GroupControlKind::state, fork3.encode().view());
    CHECK(kind_of([&] { control_from(net.d("carol"), net, "bob", fork_control.view()); }) ==
          crypto::ErrorKind::untrusted_key);
    CHECK(net.d("carol").book.state(g)->same_signed(real3));
    // Alice's real v4 still applies; Dave catches up with it.
    net.d("dave").online = true;
    net.process(net.d("dave"));
    net.deliver(net.d("alice"), net.d("alice").book.add(net.p("alice").identity, g, {net.p("erin").id()}, 4000));
    REQUIRE(net.d("carol").book.state(g)->version() == 4);
    check_agree(net, net.d("alice"), g);
    CHECK(net.d("dave").book.state(g)->same_signed(*net.d("alice").book.state(g)));
    net.send(net.d("carol"), g, "hello");
    net.read(net.d("dave"), g);
    CHECK(net.d("dave").got == std::vector<std::string>{"hello"});
}

TEST_CASE("group book - racing branches end the same on every device, whatever the arrival order", "[messenger][group]") {
    // Review, HIGH 3: Bob signs v4 and v5; concurrently Carol (the lower ID) removes Dave at her
    // v4. Alice's first device gets v4, v5, then Carol's v4; her second gets Carol's v4 first.
    auto owner = net_where("carol", "bob");
    auto& net = *owner;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000));
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("carol").id(), 3000));
    for (int i = 0; i < 2; ++i) net.d("alice", i).online = false;
    net.d("carol").online = false;
    net.deliver(net.d("bob"), net.d("bob").book.make_admin(net.p("bob").identity, g, net.p("dave").id(), 4000));
    net.deliver(net.d("bob"), net.d("bob").book.add(net.p("bob").identity, g, {net.p("erin").id()}, 5000));
    REQUIRE(net.d("bob").book.state(g)->version() == 5);
    net.deliver(net.d("carol"), net.d("carol").book.remove(net.p("carol").identity, g, {net.p("dave").id()}, 4000));
    auto& second = net.d("alice", 1).inbox;
    std::stable_partition(second.begin(), second.end(), [&](const auto& c) { return std::get<0>(c) == net.p("carol").id(); });
    for (auto* dev : {&net.d("alice", 0), &net.d("alice", 1), &net.d("carol")}) {
        dev->online = true;
        net.process(*dev);
    }
    // Carol's removal wins on both (a removal beats a role change, whoever signed it).
    CHECK(net.d("alice", 0).book.state(g)->signer() == net.p("carol").id());
    CHECK(net.d("alice", 0).book.state(g)->same_signed(*net.d("alice", 1).book.state(g)));
    CHECK_FALSE(net.d("alice", 1).book.state(g)->is_member(net.p("dave").id()));
    // Every device of the winners holds it (Dave is out; Erin was invited into the losing branch
    // and stays outside until an admin adds her again).
    for (const auto* name : {"alice", "bob", "carol"}) {
        for (auto& dev : net.p(name).devices) CHECK(dev->book.state(g)->same_signed(*net.d("carol").book.state(g)));
    }
    net.send(net.d("alice", 0), g, "after the race");
    net.read(net.d("bob"), g);
    CHECK(net.d("bob").got == std::vector<std::string>{"after the race"});
}

TEST_CASE("group book - a group request can be declined; expired ones are named for erasing", "[messenger][group]") {
    auto carol = crypto::Identity::generate();
    GroupBook book(carol.veil_id());
    auto mallory = crypto::Identity::generate();
    auto spam = crypto::GroupState::create(mallory, "spam", {carol.veil_id()}, 1000);
    auto more = crypto::GroupState::create(mallory, "more spam", {carol.veil_id()}, 1000);
    (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(spam).view(), false);
    (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(more).view(), false);
    book.decline(spam.group_id());
    CHECK(book.state(spam.group_id()) == nullptr);
    CHECK_THROWS_AS(book.decline(spam.group_id()), std::out_of_range);
    CHECK(group_record_key(spam.group_id()) == std::string(kGroupPrefix) + wire::to_hex(spam.group_id()));
    // Its slot is free again: the signer's quota counts what is held.
    CHECK(book.expire_requests(5'000).empty());
    CHECK(book.expire_requests(5'000 + GroupBook::request_ttl_ms + 1) == std::vector<GroupId>{more.group_id()});
    // Blocking a signer declines every request it brought, and only those.
    auto third = crypto::GroupState::create(mallory, "third", {carol.veil_id()}, 1000);
    auto other = crypto::Identity::generate();
    auto theirs = crypto::GroupState::create(other, "other", {carol.veil_id()}, 1000);
    (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(third).view(), false);
    (void)book.receive_control(other.veil_id(), crypto::PublicKey{}, invitation_of(theirs).view(), false);
    CHECK(book.decline_from(mallory.veil_id()) == std::vector<GroupId>{third.group_id()});
    CHECK(book.is_request(theirs.group_id()));
    // A group we accepted is left, not declined.
    Net net;
    auto g = make_group(net, {"bob"});
    CHECK(kind_of([&] { net.d("bob").book.decline(g); }) == crypto::ErrorKind::invalid_argument);
    CHECK(net.d("bob").book.state(g) != nullptr);
}

TEST_CASE("group book - a member cycling its devices makes at most two rotations an hour", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    auto& alice = net.d("alice").book;
    const auto& me = net.p("alice").identity;
    const auto bob = net.p("bob").id();
    const std::vector<crypto::PublicKey> phone{net.d("bob").keys.signing_key()};
    std::uint64_t now = 10'000'000;
    std::size_t rotations = 0;
    // Bob adds a device and revokes it, five times within a few minutes.
    for (int i = 0; i < 5; ++i) {
        auto with_new = phone;
        with_new.push_back(crypto::DeviceKeys::generate().signing_key());
        rotations += alice.devices_changed(me, bob, with_new, now).size();
        rotations += alice.devices_changed(me, bob, phone, now + 1).size();
        now += 60'000;
    }
    CHECK(rotations == GroupBook::max_rotations_per_window);
    CHECK(alice.state(g)->epoch() == 1 + GroupBook::max_rotations_per_window);
    // The revocations past the quota are owed, not forgotten: one rotation once the hour is over.
    CHECK(alice.rotate_owed(me, now).empty());
    auto owed = alice.rotate_owed(me, 10'000'000 + GroupBook::rotation_window_ms);
    CHECK(owed.size() == 1);
    CHECK(alice.rotate_owed(me, 10'000'000 + 2 * GroupBook::rotation_window_ms).empty());
    // Stored: a restart does not open a fresh quota.
    auto reloaded = GroupBook::load(net.p("alice").id(), stored(alice));
    auto with_new = phone;
    with_new.push_back(crypto::DeviceKeys::generate().signing_key());
    (void)reloaded.devices_changed(me, bob, with_new, 10'000'000 + GroupBook::rotation_window_ms + 10);
    CHECK(reloaded.devices_changed(me, bob, phone, 10'000'000 + GroupBook::rotation_window_ms + 20).size() == 1);
    CHECK(reloaded.devices_changed(me, bob, with_new, 10'000'000 + GroupBook::rotation_window_ms + 30).empty());
    CHECK(reloaded.devices_changed(me, bob, phone, 10'000'000 + GroupBook::rotation_window_ms + 40).empty());
    CHECK(reloaded.state(g)->epoch() == alice.state(g)->epoch() + 1);
}

TEST_CASE("group book - a member cycling devices does not delay another's revocation", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    auto& alice = net.d("alice").book;
    const auto& me = net.p("alice").identity;
    const auto bob = net.p("bob").id(), carol = net.p("carol").id();
    const std::vector<crypto::PublicKey> phone{net.d("bob").keys.signing_key()};
    std::uint64_t now = 10'000'000;
    // Bob uses up the group's quota cycling his own devices.
    for (int i = 0; i < 3; ++i) {
        auto with_new = phone;
        with_new.push_back(crypto::DeviceKeys::generate().signing_key());
        (void)alice.devices_changed(me, bob, with_new, now);
        (void)alice.devices_changed(me, bob, phone, now + 1);
        now += 60'000;
    }
    const auto epoch = alice.state(g)->epoch();
    // Carol's phone is stolen: her first revocation in the window rotates at once.
    const std::vector<crypto::PublicKey> laptop{net.d("carol").keys.signing_key()};
    auto stolen = laptop;
    stolen.push_back(crypto::DeviceKeys::generate().signing_key());
    (void)alice.devices_changed(me, carol, stolen, now);
    CHECK(alice.devices_changed(me, carol, laptop, now + 1).size() == 1);
    CHECK(alice.state(g)->epoch() == epoch + 1);
}

TEST_CASE("group book - a chain that arrives before its invitation is taken once the members' lists come",
          "[messenger][group]") {
    // Bob invites Alice and Carol. Alice holds nobody's device list yet (she shares no group with
    // them), and Carol's chain reaches her before Bob's invitation does.
    Person alice(1), bob(1), carol(1);
    auto keys_of = [](Person& p) { return std::vector<crypto::PublicKey>{p.devices[0]->keys.signing_key()}; };
    for (auto* holder : {&bob, &carol}) {
        for (auto* of : {&alice, &bob, &carol}) (void)holder->devices[0]->book.devices_changed(holder->identity, of->id(), keys_of(*of));
    }
    auto& a = alice.devices[0]->book;
    GroupId g{};
    auto invitation = bob.devices[0]->book.create(bob.identity, "late", {alice.id(), carol.id()}, 1000, g);
    const auto bob_key = bob.devices[0]->keys.signing_key();
    (void)carol.devices[0]->book.receive_control(bob.id(), bob_key, invitation.front().payload.view(), true);
    std::vector<GroupDelivery> chains;
    auto early = carol.devices[0]->book.send(g, carol.devices[0]->cert, text("early"), 60'000, chains).encode();
    (void)a.receive_control(carol.id(), carol.devices[0]->keys.signing_key(), chains.front().payload.view(), false);
    (void)a.receive_control(bob.id(), bob_key, invitation.front().payload.view(), false);
    REQUIRE(a.is_request(g));
    // The client gives the lists of the new group's members (Client::take_group_controls).
    for (auto* of : {&alice, &bob, &carol}) (void)a.devices_changed(alice.identity, of->id(), keys_of(*of));
    a.accept(g);
    GroupMessage m;
    REQUIRE(a.open(g, early, m) == GroupBook::Opened::message);
    CHECK(str(m.plaintext) == "early");
    CHECK(m.from == carol.id());
}

TEST_CASE("group book - a declined invitation does not come back, a later epoch's does", "[messenger][group]") {
    auto carol = crypto::Identity::generate();
    auto mallory = crypto::Identity::generate();
    GroupBook book(carol.veil_id());
    GroupBook malloryss(mallory.veil_id());
    GroupId g{};
    auto first = malloryss.create(mallory, "spam", {carol.veil_id()}, 1000, g);
    (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, first.front().payload.view(), false);
    book.decline(g);
    // Sent again (or replayed): refused, and it stays refused after a restart.
    CHECK(kind_of([&] { (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, first.front().payload.view(), false); }) ==
          crypto::ErrorKind::stale_version);
    CHECK(book.state(g) == nullptr);
    book = GroupBook::load(carol.veil_id(), stored(book));
    CHECK(kind_of([&] { (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, first.front().payload.view(), false); }) ==
          crypto::ErrorKind::stale_version);
    // Removed and added again: a later epoch, a request again.
    (void)malloryss.remove(mallory, g, {carol.veil_id()}, 2000);
    auto again = malloryss.add(mallory, g, {carol.veil_id()}, 3000);
    for (const auto& d : again) {
        if (std::find(d.to.begin(), d.to.end(), carol.veil_id()) == d.to.end()) continue;
        try {
            (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, d.payload.view(), false);
        } catch (const crypto::Error&) {
        }
    }
    CHECK(book.is_request(g));
    // Bounded per signer: one signer's declines push out only its own oldest.
    auto other = crypto::Identity::generate();
    auto theirs = crypto::GroupState::create(other, "other", {carol.veil_id()}, 1000);
    (void)book.receive_control(other.veil_id(), crypto::PublicKey{}, invitation_of(theirs).view(), false);
    book.decline(theirs.group_id());
    std::vector<crypto::GroupState> spam;
    for (std::size_t i = 0; i < GroupBook::max_declined_per_signer + 1; ++i) {
        spam.push_back(crypto::GroupState::create(mallory, "spam", {carol.veil_id()}, 1000));
        (void)book.receive_control(mallory.veil_id(), crypto::PublicKey{}, invitation_of(spam.back()).view(), false);
        book.decline(spam.back().group_id());
    }
    auto comes_back = [&](const crypto::Identity& signer, const crypto::GroupState& s) {
        return kind_of([&] { (void)book.receive_control(signer.veil_id(), crypto::PublicKey{}, invitation_of(s).view(), false); }) ==
               crypto::ErrorKind{};
    };
    CHECK_FALSE(comes_back(other, theirs));
    CHECK_FALSE(comes_back(mallory, spam.back()));
    CHECK(comes_back(mallory, spam.front()));  // the oldest of mallory's own went
}

TEST_CASE("group book - a leave notice an admin is behind on is held, and the next admin signs if the first never does",
          "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol", "dave"});
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g, net.p("bob").id(), 2000));
    // X signs first (the lowest ID), Y after its turn; Y changes the group while X is offline.
    const bool alice_first = net.p("alice").id() < net.p("bob").id();
    Person& x = net.p(alice_first ? "alice" : "bob");
    Person& y = net.p(alice_first ? "bob" : "alice");
    for (auto& dev : x.devices) dev->online = false;
    net.deliver(*y.devices[0], y.devices[0]->book.remove(y.identity, g, {net.p("dave").id()}, 3000));
    // Carol leaves over the state X has not got yet.
    const auto named = net.d("carol").book.state(g)->digest();
    auto& xb = x.devices[0]->book;
    xb.hold_leave(g, net.p("carol").id(), named, 4000);
    CHECK(xb.sign_due_leaves(x.identity, 4000).empty());  // behind: held, not ignored
    auto& yb = y.devices[0]->book;
    yb.hold_leave(g, net.p("carol").id(), named, 4000);
    CHECK(yb.sign_due_leaves(y.identity, 4000).empty());  // not Y's turn yet
    // Back online, X catches up and signs; the notice held survives a restart.
    xb = GroupBook::load(x.id(), stored(xb));
    for (auto& [n, person] : net.people) net.publish_devices(*person);
    for (auto& dev : x.devices) {
        dev->online = true;
        net.process(*dev);
    }
    auto removal = xb.sign_due_leaves(x.identity, 5000);
    REQUIRE_FALSE(removal.empty());
    net.deliver(*x.devices[0], std::move(removal));
    CHECK_FALSE(yb.state(g)->is_member(net.p("carol").id()));
    CHECK(yb.sign_due_leaves(y.identity, 4000 + kLeaveFallbackMs).empty());  // stale now: dropped

    // Erin leaves while X never acts: Y signs once X's turn has passed.
    auto g2 = make_group(net, {"bob", "erin"});
    net.deliver(net.d("alice"), net.d("alice").book.make_admin(net.p("alice").identity, g2, net.p("bob").id(), 6000));
    const auto erins = net.d("erin").book.state(g2)->digest();
    yb.hold_leave(g2, net.p("erin").id(), erins, 7000);
    CHECK(yb.sign_due_leaves(y.identity, 7000 + kLeaveFallbackMs - 1).empty());
    auto fallback = yb.sign_due_leaves(y.identity, 7000 + kLeaveFallbackMs);
    REQUIRE_FALSE(fallback.empty());
    net.deliver(*y.devices[0], std::move(fallback));
    CHECK_FALSE(xb.state(g2)->is_member(net.p("erin").id()));
}

TEST_CASE("group book - only a member's leave notice is held, and its record goes once none is held", "[messenger][group]") {
    Net net;
    auto g = make_group(net, {"bob", "carol"});
    auto& ab = net.d("alice").book;
    crypto::Digest ahead{};
    ahead.fill(7);  // a state Alice has not reached: the notice waits
    const auto stranger = crypto::Identity::generate();
    ab.hold_leave(g, stranger.veil_id(), ahead, 1000);
    CHECK(ab.held_leaves() == 0);  // not a member of the state held: ignored
    ab.hold_leave(g, net.p("carol").id(), ahead, 1000);
    REQUIRE(ab.held_leaves() == 1);
    Db db;
    db.save(ab);
    CHECK(db.rows.count(std::string(kGroupLeavesKey)) == 1);
    // Held too long: dropped, and the saved record goes with it (a restart does not hold it again).
    CHECK(ab.sign_due_leaves(net.p("alice").identity, 1000 + GroupBook::leave_hold_ms + 1).empty());
    CHECK(ab.held_leaves() == 0);
    db.save(ab);
    CHECK(db.rows.count(std::string(kGroupLeavesKey)) == 0);
    CHECK(GroupBook::load(net.p("alice").id(), db.entries()).held_leaves() == 0);
}
