#pragma once
/// The messenger's network steps on a running kernel: the manifest and node RPCs to swarms
/// through the network plugin (veil/sdk/network.hpp, veil/sdk/swarm.hpp). Errors are typed
/// (errors.hpp). The database is account_store.hpp's, the send queue send_queue.hpp's.
/// Loop-thread only; lives from the plugin's start() to its stop().

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "account.hpp"
#include "errors.hpp"
#include "public_gather.hpp"
#include "send_keys.hpp"
#include "swarm_store.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/context.hpp"

namespace veil::messenger {


class Service final {
public:
    /// The wall clock the public reads' time cut-off (kMaxPublicReadMs) counts with; tests give
    /// their own.
    using Clock = std::function<std::uint64_t()>;
    explicit Service(sdk::Context& ctx, Clock clock = sdk::now_ms);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Runs `then` once a verified manifest is held (the network plugin waits for the first one
    /// up to 20 s); fails then ("network unreachable").
    void with_manifest(std::function<void()> then, Fail fail);

    /// Stores each request (messages) in its mailbox's swarm; `done` once a majority of the
    /// members that answered stored every one (a swarm with members down still takes them).
    void store_all(std::vector<proto::node::StoreRequest> stores, std::function<void()> done, Fail fail);
    /// The device list and bundles a person has published (fails with not_found when there is
    /// no valid list).
    void fetch_person(const crypto::VeilId& who, std::function<void(PersonKeys)> done, Fail fail);
    /// The newest valid bundle of each active device of `list` that who has published.
    void fetch_bundles(const crypto::VeilId& who, const crypto::DeviceList& list, std::function<void(Bundles)> done,
                       Fail fail);
    /// How many members of a swarm must answer a public read.
    enum class Answers { any = 1, majority };
    /// The newest valid device list a person has published, alone (fails with not_found when
    /// there is none). With Answers::majority, fails unless most members of the swarm answered,
    /// so one stale member alone cannot decide the list (`init --restore` builds on it). "None"
    /// (not_found) needs complete reads from most members, with Answers::majority from EVERY
    /// member (absence_agreed); otherwise it fails unreachable (a member that did not answer
    /// may hold the list).
    void fetch_device_list(const crypto::VeilId& who, std::function<void(crypto::DeviceList)> done, Fail fail,
                           Answers answers = Answers::any);
    /// The same read, with every valid list the swarm answered (valid_device_lists: lowest
    /// version first, the newest last, never empty): a reader keeps the revoked marks of all.
    void fetch_device_lists(const crypto::VeilId& who, std::function<void(std::vector<crypto::DeviceList>)> done,
                            Fail fail, Answers answers = Answers::any);
    /// Publishes the account's device list and bundle, after joining every valid list of its
    /// identity the swarm holds (Account::adopt_device_list: a list another device signed since,
    /// or a fork of ours, is joined at max + 1 with the union of both revocations, never
    /// overwritten; a read that fewer than most members completed publishes what the account
    /// holds but leaves it unsettled, Holders::read_complete false). Taken when a majority of the members that
    /// answered stored both; `settled` when a majority of ALL the swarm's members did: then it
    /// is marked published (save afterwards) and what it supersedes is deleted. Unsettled (members
    /// down), the account stays due (needs_publish) and callers publish it again until settled,
    /// so a lone member that answered (perhaps hostile, dropping it) cannot hide a revocation.
    void publish(const AccountPtr& account, std::function<void(Holders)> done, Fail fail);
    /// Every message in the device's inbox (all pages).
    void fetch_inbox(const AccountPtr& account, std::function<void(std::vector<proto::node::MessageItem>)> done, Fail fail);
    /// Every message in a group mailbox (all pages), read with retrieves signed by its owner
    /// key pair (the mailbox seed every member holds).
    /// `after` gives where the read starts on a member (its cursor there, or nullopt: from the
    /// start); `done` also gets the Ed25519 key of the member that served the items.
    using GroupCursor = std::function<std::optional<proto::node::Hash>(const proto::PublicKey& node)>;
    void fetch_group_mailbox(std::shared_ptr<const crypto::SigningKeyPair> owner, GroupCursor after,
                             std::function<void(std::vector<proto::node::MessageItem>, proto::PublicKey node)> done,
                             Fail fail);
    /// Every message that any member of the inbox's swarm holds (one page from each, merged by
    /// hash): a receiver that sees a gap in a sender's numbers looks for the missing message on
    /// the members it did not read (sender_order.hpp).
    void fetch_inbox_everywhere(const AccountPtr& account, std::function<void(std::vector<proto::node::MessageItem>)> done,
                                Fail fail);
    /// Waits (long-poll subscribe, at most kMaxSubscribeWaitMs per call) until the inbox holds
    /// something new or wait_ms passes, then runs `woken` with what the subscribe answer carried
    /// and whether that was all of it (`complete`: the member had no more). The subscribe goes to
    /// one member and stays with it while it answers, with the cursor of its last answer: a
    /// subscribe made while the delete of what was just read is on its way is not answered with
    /// those messages again (issue 19: the next long-poll need not wait for the delete). Nothing
    /// (empty, complete) when it timed out; nothing (empty, not complete) when it failed: after a
    /// 0.5 s pause at least, the caller fetches the inbox, and the next subscribe goes to
    /// another member, from the start.
    void wait_inbox(const AccountPtr& account, std::uint32_t wait_ms,
                    std::function<void(std::vector<proto::node::MessageItem>, bool complete)> woken);
    /// The next wait_inbox goes to another member (when there is one), from the start: the held
    /// one answered nothing new, or had its share of rounds (inbox_read_policy.hpp).
    void leave_inbox_member();
    /// Items dropped so far because their data did not match their hash (inbox_items.hpp).
    [[nodiscard]] std::size_t forged_items() const { return forged_items_; }
    /// Deletes processed messages from the inbox's swarm.
    void delete_inbox(const AccountPtr& account, std::vector<proto::node::Hash> hashes, std::function<void()> done, Fail fail);

private:
    /// The members of the mailbox's swarm in the manifest held (none before with_manifest).
    [[nodiscard]] std::vector<proto::NodeEntry> members_of(const proto::node::PublicKey& mailbox) const;
    /// Sends body to every member of the mailbox's swarm; `done` with the ok answers once all
    /// answered, `fail` when none answered ok.
    void to_every_member(const proto::node::PublicKey& mailbox, const proto::node::RequestBody& body,
                         std::function<void(std::vector<proto::node::Response>)> done, Fail fail);
    /// The stores of publish(), once the swarm's lists are joined (read_complete: from most members).
    void store_published(const AccountPtr& account, bool read_complete, std::function<void(Holders)> done, Fail fail);
    /// Deletes device lists and own bundles that the ones just published supersede.
    void prune_published(const AccountPtr& account, const wire::Bytes& bundle, std::function<void()> done);
    /// Keeps `m` if it is newer than the manifest held.
    void adopt(std::shared_ptr<const proto::Manifest> m);
    /// `done` gets the blobs and how many members of the swarm gave a complete read.
    void fetch_public(const crypto::VeilId& who, std::uint16_t ns,
                      std::function<void(std::vector<wire::Bytes>, ReadCoverage)> done, Fail fail,
                      Answers answers = Answers::any);
    /// Every item (deduplicated by hash) of a public namespace of who's identity mailbox, from
    /// every member of its swarm, following `more` page by page on each; fails when no member
    /// answered (with Answers::majority: when half of them or fewer did). `done` also gets how
    /// many members gave a complete read.
    void read_public(const crypto::VeilId& who, std::uint16_t ns,
                     std::function<void(std::vector<proto::node::MessageItem>, ReadCoverage)> done, Fail fail,
                     Answers answers = Answers::any);
    /// All pages of q from member `index` into `pages`, until the member has no more, its share
    /// or page count is used up, or until_ms has passed; `done` with nothing or the member's error,
    /// and whether the member's read was complete (it said it had no more).
    void public_pages(const proto::NodeEntry& member, proto::node::RetrieveRequest q,
                      std::shared_ptr<PublicGather> pages, std::size_t index, std::uint64_t until_ms,
                      std::function<void(std::optional<sdk::Error>, bool complete)> done);
    /// A signed retrieve of one page of an owned mailbox, after the cursor.
    using PageRequest = std::function<proto::node::RetrieveRequest(std::optional<proto::node::Hash>)>;
    static constexpr std::uint32_t kGroupPageCount = 100;
    /// Every item of an owned mailbox from one member of its swarm (the next one when a member fails).
    /// Items of an owned mailbox and the member that served them.
    using OwnedDone = std::function<void(std::vector<proto::node::MessageItem>, proto::PublicKey node)>;
    void fetch_owned(const proto::node::PublicKey& mailbox, PageRequest request, GroupCursor start, OwnedDone done,
                     Fail fail);
    void owned_page(PageRequest request, GroupCursor start, std::shared_ptr<std::vector<proto::NodeEntry>> members,
                    std::size_t member, std::optional<proto::node::Hash> after,
                    std::shared_ptr<std::vector<proto::node::MessageItem>> acc, OwnedDone done, Fail fail);

    /// Whose majority settles a store: of the members that answered (messages), or of the
    /// swarm's members (published device lists and bundles: the restore's majority read then
    /// meets one member that stored them).
    enum class Quorum { answered = 1, members };
    /// Stores each request; `done(holders)` once every one is taken: settled if each reached the
    /// quorum (Quorum::members: taken on a majority of those that answered), else the fewest
    /// holders of an unsettled one.
    void store_each(std::vector<proto::node::StoreRequest> stores, std::function<void(Holders)> done, Fail fail,
                    Quorum quorum);
    /// Stores s on every member of its swarm; when the members ask proof of work (a flooded
    /// mailbox), solves the largest work asked off the loop thread and stores again.
    void store_one(proto::node::StoreRequest s, std::function<void(Holders)> done, Fail fail, Quorum quorum,
                   int round = 0);

    sdk::Context& ctx_;
    Clock clock_;
    std::shared_ptr<const proto::Manifest> manifest_;
    /// The member the inbox long-poll stays with, and the last hash it answered (its cursor).
    std::optional<proto::NodeEntry> inbox_member_;
    std::optional<proto::node::Hash> inbox_after_;
    std::optional<proto::node::PublicKey> left_member_;  // the member leave_inbox_member() left
    std::size_t forged_items_ = 0;
    void count_forged(std::size_t n);
    /// Set when the service goes away: a proof of work being solved stops.
    std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
};

/// Milliseconds since the Unix epoch (the SDK's one clock).
using sdk::now_ms;

}  // namespace veil::messenger
