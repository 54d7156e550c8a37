// read_group_items (docs/groups.md §Reading): what a service node serves from a group mailbox is
// checked against its hash before anything is opened or remembered, each node's cursor moves only
// over what it served honestly, and envelopes whose chain is late wait in the book.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "group_book.hpp"
#include "group_reading.hpp"
#include "veil/proto/namespaces.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil;
using namespace veil::messenger;
using proto::node::MessageItem;

namespace {

struct Member {
    crypto::Identity identity = crypto::Identity::generate();
    crypto::DeviceKeys keys = crypto::DeviceKeys::generate();
    crypto::DeviceCertificate cert = crypto::DeviceCertificate::issue(identity, keys, 1);
    GroupBook book{identity.veil_id()};
};

wire::Bytes text(const std::string& s) { return {s.begin(), s.end()}; }
std::string str(const wire::Bytes& b) { return {b.begin(), b.end()}; }

// Alice (admin) and Bob in one group; each knows the other's device.
struct Pair {
    Member alice, bob;
    crypto::GroupId group{};
    crypto::PublicKey mailbox{};
    std::vector<GroupDelivery> chains;  // Alice's chain, not handed to Bob until hand_chain()

    Pair() {
        for (auto* m : {&alice, &bob}) {
            for (auto* of : {&alice, &bob}) {
                (void)m->book.devices_changed(m->identity, of->identity.veil_id(), {of->keys.signing_key()});
            }
        }
        auto out = alice.book.create(alice.identity, "two", {bob.identity.veil_id()}, 1000, group);
        to_bob(out);
        mailbox = bob.book.mailboxes(group).back();
    }
    void to_bob(const std::vector<GroupDelivery>& out) {
        for (const auto& d : out) {
            (void)bob.book.receive_control(alice.identity.veil_id(), alice.keys.signing_key(), d.payload.view(), true);
        }
    }
    // One message from Alice, as the node holds it.
    MessageItem send(const std::string& body) {
        auto env = alice.book.send(group, alice.cert, text(body), 60'000, chains).encode();
        return MessageItem{proto::node::message_hash(mailbox, proto::node::kEnvelopeNamespace, env), 0, env};
    }
    // A message of a chain nobody handed out (its distribution never comes), sealed into the
    // mailbox under `cert`: what a flood of items that wait for ever looks like.
    MessageItem unknown_chain(const crypto::DeviceCertificate& cert, const std::string& body) {
        auto chain = crypto::SenderChain::create(group, alice.book.state(group)->epoch());
        const auto keys = alice.book.state(group)->mailbox_keys();
        auto env = crypto::seal(cert, chain.encrypt(text(body)).encode(), keys.to_dh().pub, keys.pub, 0, 60'000).encode();
        return MessageItem{proto::node::message_hash(mailbox, proto::node::kEnvelopeNamespace, env), 0, env};
    }
    void hand_chain() {
        to_bob(chains);
        chains.clear();
    }
    // "one" and "two" from Alice, her chain handed to Bob.
    std::pair<MessageItem, MessageItem> two_with_chain() {
        auto one = send("one");
        auto two = send("two");
        hand_chain();
        return {std::move(one), std::move(two)};
    }
    std::vector<std::string> read(const crypto::PublicKey& node, const std::vector<MessageItem>& items,
                                  std::set<proto::node::Hash>& handled, std::size_t* tampered = nullptr) {
        auto r = read_group_items(bob.book, group, mailbox, node, items, handled);
        if (tampered) *tampered = r.tampered;
        std::vector<std::string> out;
        for (const auto& m : r.messages) out.push_back(str(m.plaintext));
        return out;
    }
};

const crypto::PublicKey kHostile{1};
const crypto::PublicKey kHonest{2};

}  // namespace

TEST_CASE("group reading - a node that swaps an item's bytes hides no message", "[messenger][group]") {
    Pair p;
    auto [one, two] = p.two_with_chain();
    std::set<proto::node::Hash> handled;
    // The hostile member serves the second message's bytes under the first one's hash.
    std::size_t tampered = 0;
    auto swapped = one;
    swapped.data = two.data;
    CHECK(p.read(kHostile, {swapped}, handled, &tampered).empty());
    CHECK(tampered == 1);
    CHECK(handled.empty());
    CHECK_FALSE(p.bob.book.cursor(p.group, p.mailbox, kHostile));
    // Junk under a real hash is refused the same way.
    auto junk = two;
    junk.data.assign(two.data.size(), 7);
    CHECK(p.read(kHostile, {junk}, handled, &tampered).empty());
    CHECK(tampered == 1);
    // An honest member serves both: both open, in order.
    CHECK(p.read(kHonest, {one, two}, handled) == std::vector<std::string>{"one", "two"});
    CHECK(handled.size() == 2);
}

TEST_CASE("group reading - each node's cursor moves over what it served, and is stored", "[messenger][group]") {
    Pair p;
    auto [one, two] = p.two_with_chain();
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, {one, two}, handled) == std::vector<std::string>{"one", "two"});
    CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == two.hash);
    CHECK_FALSE(p.bob.book.cursor(p.group, p.mailbox, kHostile));
    // A tampered item stops the node's cursor before it; what came before still moves it.
    auto three = p.send("three");
    auto four = p.send("four");
    auto five = p.send("five");
    auto bad = four;
    bad.data.back() ^= 1;
    CHECK(p.read(kHonest, {three, bad, five}, handled) == std::vector<std::string>{"three", "five"});
    CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == three.hash);
    // The cursor survives a restart (a new process reads only what is new on that node).
    std::vector<sdk::storage::Entry> entries;
    for (auto& op : p.bob.book.save_ops("messenger")) {
        if (op.kind == sdk::storage::BatchOp::Kind::put) entries.push_back({op.key, op.value});
    }
    auto reloaded = GroupBook::load(p.bob.identity.veil_id(), entries);
    CHECK(reloaded.cursor(p.group, p.mailbox, kHonest) == three.hash);
    // A mailbox no longer read drops its cursors: Alice removes and re-adds nobody, she rotates.
    p.to_bob(p.alice.book.devices_changed(p.alice.identity, p.alice.identity.veil_id(), {}));
    auto six = p.send("six");
    p.hand_chain();
    const auto new_mailbox = p.bob.book.mailboxes(p.group).back();
    REQUIRE(new_mailbox != p.mailbox);
    p.bob.book.set_cursor(p.group, new_mailbox, kHonest, six.hash);
    CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == three.hash);  // the old mailbox is still read
}

TEST_CASE("group reading - an envelope whose chain is late waits in the book, past the cursor", "[messenger][group]") {
    Pair p;
    auto early = p.send("early");
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, {early}, handled).empty());  // Alice's chain is still on its way
    CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == early.hash);
    CHECK(handled.empty());
    // Stored with the book, and bounded.
    std::vector<sdk::storage::Entry> entries;
    for (auto& op : p.bob.book.save_ops("messenger")) {
        if (op.kind == sdk::storage::BatchOp::Kind::put) entries.push_back({op.key, op.value});
    }
    p.bob.book = GroupBook::load(p.bob.identity.veil_id(), entries);
    (void)p.bob.book.devices_changed(p.bob.identity, p.alice.identity.veil_id(), {p.alice.keys.signing_key()});
    p.hand_chain();
    CHECK(p.read(kHonest, {}, handled) == std::vector<std::string>{"early"});
    CHECK(p.read(kHonest, {}, handled).empty());  // once
    // Bounded per member: Alice's own flood gives up her oldest.
    std::vector<MessageItem> flood;
    for (std::size_t i = 0; i < GroupBook::max_waiting_per_member + 5; ++i) {
        flood.push_back(p.unknown_chain(p.alice.cert, "flood " + std::to_string(i)));
        (void)p.bob.book.hold_waiting(p.group, flood.back().data);
    }
    auto kept = p.bob.book.take_waiting(p.group);
    REQUIRE(kept.size() == GroupBook::max_waiting_per_member);
    CHECK(kept.front() == flood[5].data);  // the oldest went
}

// Serves what a node holds after `cursor` (all of it without one), as a node's retrieve does.
std::vector<MessageItem> after(const std::vector<MessageItem>& all, const std::optional<crypto::PublicKey>& cursor) {
    auto it = all.begin();
    if (cursor) {
        auto at = std::find_if(all.begin(), all.end(), [&](const MessageItem& m) { return m.hash == *cursor; });
        if (at != all.end()) it = at + 1;
    }
    return std::vector<MessageItem>(it, all.end());
}

TEST_CASE("group reading - a stranger's junk does not push a member's early envelope out", "[messenger][group]") {
    Pair p;
    const Member stranger;
    std::vector<MessageItem> node{p.send("early")};  // Alice's chain is still on its way
    for (int i = 0; i < 40; ++i) node.push_back(p.unknown_chain(stranger.cert, "junk " + std::to_string(i)));
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, node, handled).empty());
    CHECK(p.bob.book.hold_waiting(p.group, node.back().data) == GroupBook::Hold::refused);
    p.hand_chain();
    CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled) ==
          std::vector<std::string>{"early"});
}

TEST_CASE("group reading - a member's flood of unknown chains gives up only its own waiting envelopes", "[messenger][group]") {
    Pair p;
    std::vector<MessageItem> node{p.send("early")};
    // Bob's own listed device stands for any member that floods (its certificate is a member's).
    for (int i = 0; i < 40; ++i) node.push_back(p.unknown_chain(p.bob.cert, "made-up " + std::to_string(i)));
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, node, handled).empty());
    p.hand_chain();
    CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled) ==
          std::vector<std::string>{"early"});
    // A device its member's list does not name is refused outright.
    const auto unlisted = crypto::DeviceCertificate::issue(p.alice.identity, crypto::DeviceKeys::generate(), 1);
    CHECK(p.bob.book.hold_waiting(p.group, p.unknown_chain(unlisted, "x").data) == GroupBook::Hold::refused);
}

TEST_CASE("group reading - a waiting envelope given up for room is read again once its chain arrives", "[messenger][group]") {
    Pair p;
    // Alice's real message, then 10 made-up chains under her certificate (a copy of it would
    // do): more than her quota, so her real one is given up first.
    std::vector<MessageItem> node{p.send("early")};
    for (int i = 0; i < 10; ++i) node.push_back(p.unknown_chain(p.alice.cert, "made-up " + std::to_string(i)));
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, node, handled).empty());
    REQUIRE(p.bob.book.cursor(p.group, p.mailbox, kHonest) == node.back().hash);
    // Reading again restarts nothing: the held ones wait again, the cursor stays at the end.
    for (int round = 0; round < 3; ++round) {
        CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled).empty());
        CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == node.back().hash);
    }
    // Her chain arrives: the mailbox is read again from the start, and the cursor comes back.
    p.hand_chain();
    CHECK_FALSE(p.bob.book.cursor(p.group, p.mailbox, kHonest));
    CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled) ==
          std::vector<std::string>{"early"});
    CHECK(p.bob.book.cursor(p.group, p.mailbox, kHonest) == node.back().hash);
    CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled).empty());  // once
}

TEST_CASE("group reading - big envelopes claimed by one member push out neither another's nor its own beyond its share",
          "[messenger][group]") {
    Pair p;
    std::vector<MessageItem> node{p.send("early")};  // Alice's chain is still on its way
    // Junk of 64 KiB each under Bob's certificate (anyone can copy it into an envelope).
    const std::string big(40'000, 'x');
    for (int i = 0; i < 6; ++i) node.push_back(p.unknown_chain(p.bob.cert, big + std::to_string(i)));
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, node, handled).empty());
    auto kept = p.bob.book.take_waiting(p.group);
    std::size_t claimed_by_bob = 0;
    for (const auto& k : kept) claimed_by_bob += k.size() > 1000 ? k.size() : 0;
    CHECK(claimed_by_bob <= GroupBook::max_waiting_bytes_per_member);
    for (const auto& k : kept) (void)p.bob.book.hold_waiting(p.group, k);
    p.hand_chain();
    CHECK(p.read(kHonest, after(node, p.bob.book.cursor(p.group, p.mailbox, kHonest)), handled) ==
          std::vector<std::string>{"early"});
}

TEST_CASE("group reading - a chain handed again at an earlier iteration opens nothing twice", "[messenger][group]") {
    Pair p;
    auto one = p.send("one");
    std::vector<wire::Bytes> again;  // the distribution at iteration 0, kept to hand it again
    for (const auto& d : p.chains) again.emplace_back(d.payload.view().begin(), d.payload.view().end());
    p.hand_chain();
    std::set<proto::node::Hash> handled;
    CHECK(p.read(kHonest, {one}, handled) == std::vector<std::string>{"one"});
    // Alice's device (or a replay of its pairwise message) hands the same chain again.
    for (const auto& d : again) {
        CHECK_THROWS_AS(p.bob.book.receive_control(p.alice.identity.veil_id(), p.alice.keys.signing_key(),
                                                   d, true),
                        crypto::Error);
    }
    std::set<proto::node::Hash> fresh;  // a new process: nothing remembered
    CHECK(p.read(kHonest, {one}, fresh).empty());
}
