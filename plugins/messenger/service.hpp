#pragma once
/// The messenger's asynchronous steps on a running kernel: the account in the storage contract
/// (bus requests to the storage plugin), and the manifest and node RPCs to swarms through the
/// network plugin (veil/sdk/network.hpp, veil/sdk/swarm.hpp). Errors reach the caller as one
/// user-facing sentence. Loop-thread only; lives from the plugin's start() to its stop().

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "account.hpp"
#include "outbox.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/sdk/context.hpp"

namespace veil::messenger {

using AccountPtr = std::shared_ptr<Account>;
/// Receives one user-facing error sentence.
using Fail = std::function<void(const std::string&)>;

/// What a sender learns about a person right before sending (never a cache).
struct PersonKeys final {
    crypto::DeviceList list;
    std::map<crypto::PublicKey, crypto::PreKeyBundle> bundles;
};

class Service final {
public:
    explicit Service(sdk::Context& ctx);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Runs `then` once a verified manifest is held (the network plugin waits for the first one
    /// up to 20 s); fails then ("network unreachable").
    void with_manifest(std::function<void()> then, Fail fail);

    /// The stored account, or nullptr when this HOME has none.
    void load(std::function<void(AccountPtr)> done, Fail fail);
    /// Stores the account state and `extra` ops in one atomic batch.
    void save(const Account& account, std::vector<sdk::storage::BatchOp> extra, std::function<void()> done, Fail fail);

    /// Stores each request in its mailbox's swarm; `done` once every one is stored.
    void store_all(std::vector<proto::node::StoreRequest> stores, std::function<void()> done, Fail fail);
    /// The device list and bundles a person has published (fails when there is no valid list).
    void fetch_person(const crypto::VeilId& who, std::function<void(PersonKeys)> done, Fail fail);
    /// Publishes the account's device list and bundle, marks it published (save afterwards), and
    /// deletes what they supersede from the identity's swarm.
    void publish(const AccountPtr& account, std::function<void()> done, Fail fail);
    /// Every message in the device's inbox (all pages).
    void fetch_inbox(const AccountPtr& account, std::function<void(std::vector<proto::node::MessageItem>)> done, Fail fail);
    /// Waits (long-poll subscribe, at most kMaxSubscribeWaitMs per call) until the inbox holds
    /// something or wait_ms passes, then runs `woken`. Falls back to a 0.5 s pause when the
    /// subscribe fails, so callers poll instead.
    void wait_inbox(const AccountPtr& account, std::uint32_t wait_ms, std::function<void()> woken);
    /// Deletes processed messages from the inbox's swarm.
    void delete_inbox(const AccountPtr& account, std::vector<proto::node::Hash> hashes, std::function<void()> done, Fail fail);

    /// Queued stores of earlier sends that did not finish (retried by flush_outbox).
    void flush_outbox(std::function<void()> done, Fail fail);
    /// Adds a message to the send queue (local only).
    void enqueue(const crypto::VeilId& to, const ChatMessage& message, std::function<void()> done, Fail fail);
    /// Encrypts and sends every queued message, oldest first: fresh device lists, fan-out, saved
    /// (state, outbox, dequeued) in one batch, then stored. Stops at the first failure; a message
    /// that can never go out is dropped (on_dropped) and the run goes on.
    void process_queue(const AccountPtr& account, std::function<void()> done, Fail fail);
    /// Told when a queued message can never go out (the ID has no reachable device) and leaves
    /// the queue: its conversation, its id, why.
    using Dropped = std::function<void(const crypto::VeilId&, const MessageId&, const std::string&)>;
    void on_dropped(Dropped hook) { on_dropped_ = std::move(hook); }

private:
    /// The members of the mailbox's swarm in the manifest held (none before with_manifest).
    [[nodiscard]] std::vector<proto::NodeEntry> members_of(const proto::node::PublicKey& mailbox) const;
    /// Sends body to every member of the mailbox's swarm; `done` with the ok answers once all
    /// answered, `fail` when none answered ok.
    void to_every_member(const proto::node::PublicKey& mailbox, const proto::node::RequestBody& body,
                         std::function<void(std::vector<proto::node::Response>)> done, Fail fail);
    void send_queued(const AccountPtr& account, std::shared_ptr<std::vector<sdk::storage::Entry>> queue,
                     std::size_t next, std::function<void()> done, Fail fail);
    /// fetch_person, read once per run of the send queue (a burst reads each person's keys once;
    /// the next run reads them again).
    void fetch_fresh(const crypto::VeilId& who, std::function<void(PersonKeys)> done, Fail fail);
    /// Deletes device lists and own bundles that the ones just published supersede.
    void prune_published(const AccountPtr& account, const wire::Bytes& bundle, std::function<void()> done);
    /// Keeps `m` if it is newer than the manifest held.
    void adopt(std::shared_ptr<const proto::Manifest> m);
    void fetch_public(const crypto::VeilId& who, std::uint16_t ns, std::function<void(std::vector<wire::Bytes>)> done,
                      Fail fail);
    void inbox_page(const AccountPtr& account, std::shared_ptr<std::vector<proto::NodeEntry>> members,
                    std::size_t member, std::optional<proto::node::Hash> after,
                    std::shared_ptr<std::vector<proto::node::MessageItem>> acc,
                    std::function<void(std::vector<proto::node::MessageItem>)> done, Fail fail);

    sdk::Context& ctx_;
    std::shared_ptr<const proto::Manifest> manifest_;
    Dropped on_dropped_;
    std::map<crypto::VeilId, PersonKeys> fresh_;
};

/// Milliseconds since the Unix epoch.
[[nodiscard]] std::uint64_t now_ms();

}  // namespace veil::messenger
