#include <catch2/catch.hpp>

#include "conversations.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {

crypto::VeilId new_id() { return crypto::Identity::generate().veil_id(); }

// A message `from` wrote in the conversation with `peer`, as Account::open hands it over.
MessageRecord opened(const crypto::VeilId& peer, const crypto::VeilId& from, std::string text, std::uint64_t sent_at_ms) {
    MessageRecord r;
    r.peer = peer;
    r.from = from;
    r.message = make_text(std::move(text), sent_at_ms);
    return r;
}

}  // namespace

TEST_CASE("conversations - a stranger's message is a request until accepted; own copies accept", "[messenger]") {
    auto self = new_id(), stranger = new_id(), friend_ = new_id();
    Conversations c;
    c.load(self, {}, {});
    auto round = c.receive({opened(stranger, stranger, "hi", 10), opened(friend_, self, "from my phone", 11)}, 100);
    REQUIRE(round.shown.size() == 2);
    CHECK(c.is_request(stranger));
    CHECK_FALSE(c.is_request(friend_));  // we wrote to them from another device
    // What MessageAdded carries: a bot tells a stranger's request from a contact's message.
    CHECK(c.view(round.shown[0]).request);
    CHECK_FALSE(c.view(round.shown[1]).request);
    CHECK(round.shown[0].delivery == DeliveryState::received);
    CHECK_FALSE(round.shown[0].read);
    CHECK(round.shown[1].delivery == DeliveryState::sent);
    CHECK(round.shown[1].read);
    CHECK(round.changed.size() == 2);
    CHECK(round.ops.size() == 4);  // two contacts, two records
}

TEST_CASE("conversations - a blocked sender's message and a stranger's contact change are dropped", "[messenger]") {
    auto self = new_id(), blocked = new_id();
    Conversations c;
    c.load(self, {{blocked, ContactRecord{blocked, "b", true, true, 0}}}, {});
    auto contact_change = opened(blocked, blocked, "renamed", 11);
    contact_change.message.kind = ChatKind::contact;
    auto round = c.receive({opened(blocked, blocked, "let me in", 10), contact_change}, 100);
    CHECK(round.shown.empty());
    CHECK(round.ops.empty());
    CHECK(c.contact(blocked)->name == "b");
}

TEST_CASE("conversations - the sender's timer becomes the conversation's; timer messages are not shown",
          "[messenger]") {
    auto self = new_id(), peer = new_id();
    Conversations c;
    c.load(self, {{peer, ContactRecord{peer, "p", true, false, 0}}}, {});
    auto timer = opened(peer, peer, "", 10);
    timer.message.kind = ChatKind::timer;
    timer.message.disappear_after_s = 60;
    auto text = opened(peer, peer, "soon gone", 11);
    text.message.disappear_after_s = 60;
    auto round = c.receive({timer, text}, 1'000);
    REQUIRE(round.shown.size() == 1);
    CHECK(round.shown[0].expires_at_ms == 61'000);
    CHECK(c.contact(peer)->disappear_after_s == 60);
    for (const auto& r : round.shown) c.put(r);
    // The resident client's expiry timer is armed for this instant (no polling while idle).
    CHECK(c.next_expiry_ms() == 61'000);
    CHECK(c.take_expired(60'999).ops.empty());
    auto expired = c.take_expired(61'000);
    CHECK(expired.ops.size() == 1);
    CHECK(c.messages(peer, 10).empty());
    CHECK(c.next_expiry_ms() == 0);
}

TEST_CASE("conversations - the download timer is armed for the earliest failed download waiting", "[messenger]") {
    auto self = new_id(), peer = new_id();
    Conversations c;
    c.load(self, {{peer, ContactRecord{peer, "p", true, false, 0}}}, {});
    CHECK(c.next_download_retry_ms() == 0);  // nothing waits: the resident client arms no timer
    auto later = opened(peer, peer, "later", 10);
    later.retry_at_ms = 9'000;
    auto sooner = opened(peer, peer, "sooner", 11);
    sooner.retry_at_ms = 5'000;
    auto under_way = opened(peer, peer, "under way", 12);
    under_way.retry_at_ms = UINT64_MAX;  // its end sets the next time
    auto saved = opened(peer, peer, "saved", 13);
    saved.retry_at_ms = 1'000;
    saved.saved_path = "/nowhere/saved";
    for (const auto& r : {later, sooner, under_way, saved}) c.put(r);
    CHECK(c.next_download_retry_ms() == 5'000);
    CHECK(c.pending_downloads(5'000).size() == 1);
    sooner.retry_at_ms = 0;  // downloaded
    c.put(sooner);
    CHECK(c.next_download_retry_ms() == 9'000);
    later.retry_at_ms = 0;
    c.put(later);
    CHECK(c.next_download_retry_ms() == 0);
}

TEST_CASE("conversations - a message whose id and time are stored is dropped once, shown in time order",
          "[messenger]") {
    auto self = new_id(), peer = new_id();
    Conversations c;
    c.load(self, {}, {});
    auto late = opened(peer, peer, "second", 20);
    auto early = opened(peer, peer, "first", 10);
    auto round = c.receive({late, early, late}, 100);
    CHECK(round.duplicates == 1);
    REQUIRE(round.shown.size() == 2);
    CHECK(round.shown[0].message.text == "first");
    for (const auto& r : round.shown) c.put(r);
    CHECK(c.receive({early}, 200).duplicates == 1);
}

TEST_CASE("conversations - a request's files wait and are taken once after acceptance", "[messenger]") {
    auto self = new_id(), stranger = new_id();
    Conversations c;
    c.load(self, {}, {});
    auto file = opened(stranger, stranger, "", 10);
    file.message.kind = ChatKind::attachment;
    file.message.attachment = sdk::attachment::AttachmentRef{};
    auto round = c.receive({file}, 100);
    REQUIRE(round.shown.size() == 1);
    CHECK(round.shown[0].error == kNotFetched);
    c.put(round.shown[0]);
    CHECK(c.take_waiting_files(stranger).size() == 1);
    CHECK(c.take_waiting_files(stranger).empty());
}

TEST_CASE("conversations - sending accepts, queued messages turn sent or failed", "[messenger]") {
    auto self = new_id(), peer = new_id(), ghost = new_id();
    Conversations c;
    c.load(self, {{peer, ContactRecord{peer, "", false, false, 30}}}, {});
    auto out = c.outgoing(peer, make_text("hello", 10), 1'000);
    CHECK(out.accepted_now);
    CHECK(out.contact.accepted);
    CHECK(out.record.message.disappear_after_s == 30);
    CHECK(out.record.expires_at_ms == 31'000);
    CHECK(out.record.delivery == DeliveryState::queued);
    c.put(out.record);
    auto lost = c.outgoing(ghost, make_text("nobody", 11), 1'000).record;
    c.put(lost);
    auto keys = c.queued_keys();
    CHECK(keys.size() == 2);
    auto failed = c.mark_failed(ghost, lost.message.id, "no device list");
    REQUIRE(failed);
    CHECK(failed->delivery == DeliveryState::failed);
    auto sent = c.mark_sent(keys);  // the failed one stays failed
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].peer == peer);
    CHECK(c.queued_keys().empty());
    CHECK(c.view(sent[0]).outgoing);
    CHECK(c.view(sent[0]).delivery == sdk::messenger::Delivery::sent);
}

TEST_CASE("conversations - the list is newest first and counts unread", "[messenger]") {
    auto self = new_id(), a = new_id(), b = new_id();
    Conversations c;
    c.load(self, {}, {});
    for (const auto& r : c.receive({opened(a, a, "old", 10), opened(b, b, "new", 20), opened(b, b, "newer", 30)}, 100).shown) {
        c.put(r);
    }
    auto list = c.conversations();
    REQUIRE(list.size() == 2);
    CHECK(list[0].peer == b.str());
    CHECK(list[0].unread == 2);
    CHECK(list[0].last_text == "newer");
    CHECK(c.mark_read(b).size() == 2);
    CHECK(c.conversation(b).unread == 0);
    CHECK(c.messages(b, 1).at(0).message.text == "newer");
}

TEST_CASE("conversations - group messages are kept under their group, apart from the senders' conversations",
          "[messenger]") {
    auto self = new_id(), bob = new_id(), blocked = new_id();
    crypto::GroupId group{};
    group.fill(7);
    Conversations c;
    c.load(self, {{blocked, ContactRecord{blocked, "b", true, true, 0}}}, {});
    auto in_group = [&](const crypto::VeilId& from, std::string text, std::uint64_t at) {
        auto r = opened(from, from, std::move(text), at);
        r.group = group;
        return r;
    };
    auto first = in_group(bob, "hi all", 10);
    auto round = c.receive_group({first, in_group(self, "from my phone", 11), in_group(blocked, "let me in", 12),
                                  opened(bob, bob, "not a group message", 13)},
                                 100);
    REQUIRE(round.shown.size() == 2);
    CHECK(round.ops.size() == 2);
    CHECK(round.shown[0].delivery == DeliveryState::received);
    CHECK_FALSE(round.shown[0].read);
    CHECK(round.shown[1].delivery == DeliveryState::sent);  // ours, from another device
    CHECK(round.shown[1].read);
    for (const auto& r : round.shown) c.put(r);
    // The same message again (read in another round) is a duplicate.
    CHECK(c.receive_group({first}, 200).duplicates == 1);
    CHECK(c.messages(group, 10).size() == 2);
    CHECK(c.messages(bob, 10).empty());  // not in Bob's one-to-one conversation
    // Nor listed as one (only the blocked contact is): the client lists its groups itself.
    REQUIRE(c.conversations().size() == 1);
    CHECK(c.conversations()[0].peer == blocked.str());
    auto view = c.view(round.shown[0]);
    CHECK(view.group == crypto::group_id_str(group));
    CHECK(view.peer == view.group);
    CHECK(view.from == bob.str());
    CHECK_FALSE(view.request);
    auto summary = c.conversation(group);
    CHECK(summary.group);
    CHECK(summary.unread == 1);
    CHECK(summary.last_text == "from my phone");
    CHECK(c.mark_read(group).size() == 1);
    CHECK(c.conversation(group).unread == 0);
}
