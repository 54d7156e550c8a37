#pragma once
/// The send queue's run (the two stages are described in outbox.hpp): finishes what earlier runs
/// left in the outbox, then encrypts and sends every queued message, oldest first. Per message:
/// the recipient's and own keys (send_keys.hpp: what is read, when), fan-out, then ratchet state, envelopes and dequeue
/// saved in one batch, then exactly those envelopes stored in every recipient swarm, then their
/// outbox entry erased. A message whose recipient swarm refuses it (quota_exceeded, ...) stays in
/// the outbox and is "held" (held()): the run goes on with the others, and a later run tries the
/// same bytes again. Stops at the first network or storage failure (the message stays queued or
/// in the outbox, and the next run finishes it with the same bytes). A message whose recipient
/// has no device list or bundle yet stays queued and held for kMissingKeysGraceMs (10 min) after
/// it was written, retried by each run; only then is it dropped and reported (the record turns
/// failed with the reason), and the run goes on. Loop-thread only.

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "account_store.hpp"
#include "send_keys.hpp"
#include "service.hpp"

namespace veil::messenger {

class SendQueue final {
public:
    SendQueue(sdk::Context& ctx, Service& service, AccountStore& store);

    /// Resident clients: device lists read less than max_age_ms ago are reused (send_keys.hpp).
    void reuse_lists_younger_than(std::uint64_t max_age_ms) { keys_.reuse_lists_younger_than(max_age_ms); }

    /// One run: the outbox, then the queue; `done` once every envelope is stored.
    void run(const AccountPtr& account, std::function<void()> done, Fail fail);

    /// Told when a queued message can never go out (the ID has no reachable device) and leaves
    /// the queue: its conversation, its id, why (a sentence for the person).
    using Dropped = std::function<void(const crypto::VeilId&, const MessageId&, const std::string&)>;
    void on_dropped(Dropped hook) { on_dropped_ = std::move(hook); }
    /// Names the accepted contacts (their held device lists are never evicted on a send).
    void on_accepted(StrangerSessions::IsAccepted is_accepted) { is_accepted_ = std::move(is_accepted); }

    /// After a run: the messages that wait (a swarm refused them, left in the outbox; or their
    /// recipient's keys are not published yet, left queued), with the reason.
    [[nodiscard]] const std::map<MessageId, sdk::Error>& held() const { return held_; }

private:
    /// Stores what earlier runs left in the outbox, then erases it.
    void flush_outbox(std::function<void()> done, Fail fail);
    void flush_entries(std::shared_ptr<std::vector<sdk::storage::Entry>> entries, std::size_t next,
                       std::function<void()> done, Fail fail);
    void send_queued(const AccountPtr& account, std::shared_ptr<std::vector<sdk::storage::Entry>> queue, std::size_t next,
                     std::function<void()> done, Fail fail);
    /// Stores the envelopes of a send just committed to the outbox, then erases its entry.
    void send_committed(const MessageId& id, std::vector<proto::node::StoreRequest> stores, std::function<void()> done,
                        Fail fail);

    sdk::Context& ctx_;
    Service& service_;
    AccountStore& store_;
    Dropped on_dropped_;
    StrangerSessions::IsAccepted is_accepted_;
    SendKeys keys_;
    std::map<MessageId, sdk::Error> held_;
};

}  // namespace veil::messenger
