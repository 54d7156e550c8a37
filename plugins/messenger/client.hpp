#pragma once
/// The client core shared by every command and by the resident client (`veil daemon`, `veil
/// chat`): the one code path for sending a message and for handling a received one. One-shot
/// commands call open(), then send()/flush()/receive_once(); the resident client also calls
/// run(): a receive loop (long-poll, polling fallback), send retries and the expiry timer.
/// Publishes MessageAdded, MessageUpdated and ConversationUpdated (sdk/messenger.hpp) on the bus.
/// Loop-thread only.
///
/// Its pieces, one job each (Client's own methods are grouped by job across files):
///  - AccountStore (account_store.*): the database: account, contacts, records, queue;
///  - Conversations (conversations.*): contacts and records in memory, the rules for a
///    received message, the views;
///  - SendQueue (send_queue.*) and RetryBackoff (retry.hpp): the queue's run and when to retry;
///    PublishBackoff (publish_backoff.hpp): when an unsettled publish goes out again;
///  - client.cpp: open and load, the resident loop, expiry;
///  - client_send.cpp: send, enqueue, flush (one at a time), sent/failed marks;
///  - client_receive.cpp: receive rounds, the sender-device check, saving what arrived;
///  - client_contacts.cpp: contacts, requests, blocking, disappearing timers, read marks;
///  - client_attachments.cpp: downloading files, and those waiting for acceptance.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "account_store.hpp"
#include "conversations.hpp"
#include "gap_searches.hpp"
#include "group_book.hpp"
#include "inbox_read_policy.hpp"
#include "list_checks.hpp"
#include "outbox.hpp"
#include "recent_hashes.hpp"
#include "publish_backoff.hpp"
#include "retry.hpp"
#include "send_queue.hpp"
#include "sender_order.hpp"
#include "service.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::messenger {

/// The error sentence when no plugin serves the attachment contract.
inline constexpr std::string_view kNoAttachments = "attachments are not enabled (add \"attachments\" to kernel.plugins)";

class Client final {
public:
    Client(sdk::Context& ctx, Service& service, AccountStore& store);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Loads the account, contacts and messages and deletes expired messages. Fails (not_found,
    /// "... run veil init ...") when HOME has no identity. `exclusive` (anything that writes)
    /// also takes HOME's lock and fails while another process (a daemon, a chat) holds it;
    /// without it (id, listings) the client still deletes expired messages when the lock is
    /// free, and only reads when another process holds it.
    void open(std::function<void()> done, Fail fail, bool exclusive = true);
    [[nodiscard]] bool is_open() const { return account_ != nullptr; }
    [[nodiscard]] const AccountPtr& account() const { return account_; }

    /// Queues a message (text, a file, or both) to `to` and saves it; `queued` gets the record
    /// (delivery queued). A file is uploaded first through the attachment contract (with
    /// keep_metadata: sent as it is, at the sender's explicit request; file_name: the name the
    /// recipient sees, "" = a neutral one from its type); what its processing wants the sender
    /// told is in the record's attachment notice. Writing to someone accepts their request.
    /// Call flush() (or run()) to send it.
    void send(const crypto::VeilId& to, std::string text, std::string file_path, bool keep_metadata, std::string file_name,
              std::function<void(const MessageRecord&)> queued, Fail fail);
    /// Sends everything queued (and publishes the account if due); `done` once all is stored in
    /// every recipient swarm. Never runs twice at once: a call during a flush waits for the next.
    void flush(std::function<void()> done, Fail fail);
    /// After a flush: why one of `mine` still waits (a swarm refused it, or its recipient's keys
    /// are not published yet; it is tried again), or empty when all of them went out.
    [[nodiscard]] std::string held_reason(const std::vector<MessageId>& mine) const {
        return messenger::held_reason(queue_.held(), mine);
    }
    /// The messages the last group command queued (create_group, change_group, leave_group,
    /// send_group: its envelope and the chain it handed out); read it in that command's callback.
    [[nodiscard]] const std::vector<MessageId>& last_group_queued() const { return last_group_queued_; }
    /// One receive round: fetch the inbox, open, apply contacts/blocking/timers, save, delete from
    /// the swarm, download attachments; `done` gets the messages added (oldest first).
    void receive_once(std::function<void(std::vector<MessageRecord>)> done, Fail fail);
    /// A receive round after Service::wait_inbox woke: `woken_with` is what the subscribe answer
    /// carried (handled as the inbox, no second retrieve), or empty (the inbox is fetched).
    void receive_woken(std::vector<proto::node::MessageItem> woken_with,
                       std::function<void(std::vector<MessageRecord>)> done, Fail fail);
    /// How long a message that arrived before an earlier one of the same sender's device waits
    /// for it before it is shown anyway (sender_order.hpp; resident clients).
    static constexpr std::uint64_t kGapWaitMs = 5'000;
    /// Reads our current device list from the swarm and keeps it if newer (copies from a revoked
    /// device of ours are refused from then on; a new device gets our syncs); then `then`, also
    /// when the network fails.
    void refresh_own_devices(std::function<void()> then);
    /// Resident mode: receive loop, send retries, expiry timer, until destroyed.
    void run();

    /// Contacts (message requests and blocked IDs included).
    [[nodiscard]] std::vector<ContactRecord> contacts() const { return model_.contacts(); }
    [[nodiscard]] std::optional<ContactRecord> contact(const crypto::VeilId& id) const { return model_.contact(id); }
    /// Adds or renames a contact; it is accepted too.
    void save_contact(const crypto::VeilId& id, std::string name, std::function<void()> done, Fail fail);
    /// Accepts a message request (fails with not_found when there is none and no contact).
    void accept(const crypto::VeilId& id, std::function<void()> done, Fail fail);
    void set_blocked(const crypto::VeilId& id, bool blocked, std::function<void()> done, Fail fail);
    /// Sets the conversation's disappearing timer and tells the peer and own devices (queued:
    /// call flush()).
    void set_disappearing(const crypto::VeilId& peer, std::uint32_t seconds, std::function<void()> done, Fail fail);

    /// Views for frontends.
    /// Every conversation, closed groups included (client_group_views.cpp), newest first.
    [[nodiscard]] std::vector<sdk::messenger::Conversation> conversations() const;
    [[nodiscard]] std::vector<MessageRecord> messages(const crypto::VeilId& peer, std::size_t limit) const {
        return model_.messages(peer, limit);
    }
    void mark_read(const crypto::VeilId& peer, std::function<void()> done, Fail fail);
    [[nodiscard]] sdk::messenger::Message view(const MessageRecord& r) const { return model_.view(r); }
    [[nodiscard]] sdk::messenger::Conversation conversation(const crypto::VeilId& peer) const {
        return model_.conversation(peer);
    }
    /// Tries again the downloads that failed for a reason that may pass (all of them, or with
    /// `due_only` those whose backoff ran out); `done` gets the records whose file is now kept.
    void retry_downloads(bool due_only, std::function<void(std::vector<MessageRecord>)> done);
    /// Opens the kept (encrypted) file of message `message_id` (hex) through the attachment
    /// contract: into a new file under `directory`, or the new file `path`, or (both empty) as
    /// bytes. not_found: no such message or not downloaded yet.
    void open_file(const std::string& message_id, std::string directory, std::string path,
                   std::function<void(sdk::attachment::OpenedAttachment, const MessageRecord&)> done, Fail fail);
    /// True when `peer`'s messages are a request (unknown sender, not accepted yet).
    [[nodiscard]] bool is_request(const crypto::VeilId& peer) const { return model_.is_request(peer); }
    // client_group_views.cpp: closed groups as frontends see them
    /// A group's conversation (named after the group; a request while not accepted).
    [[nodiscard]] sdk::messenger::Conversation conversation(const crypto::GroupId& group) const;
    /// A group's newest `limit` messages, oldest first.
    [[nodiscard]] std::vector<MessageRecord> messages(const crypto::GroupId& group, std::size_t limit) const {
        return model_.messages(group, limit);
    }
    /// The group with its members (only the id when not held).
    [[nodiscard]] sdk::messenger::Group group_view(const crypto::GroupId& group) const;
    void mark_read(const crypto::GroupId& group, std::function<void()> done, Fail fail);
    /// ConversationUpdated for every group held (after group controls changed the book).
    void publish_groups();
    /// ConversationUpdated for one group (created, changed, accepted).
    void publish_group(const crypto::GroupId& group);
    // client_groups.cpp: closed groups (docs/groups.md)
    /// The groups this device holds (loaded by open()).
    [[nodiscard]] const GroupBook& groups() const { return *groups_; }
    /// Makes a group with us as admin and `members`; `done` gets its ID once the invitations are
    /// queued with the group saved (flush() sends them).
    void create_group(std::string name, std::vector<crypto::VeilId> members, std::function<void(crypto::GroupId)> done,
                      Fail fail);
    /// An admin's change; refused (refused) when we are not an admin, not_found for an unknown
    /// group. The new state is queued for every member (flush() sends it).
    enum class GroupChange { add = 1, remove, admin };
    void change_group(GroupChange change, const crypto::GroupId& group, std::vector<crypto::VeilId> ids,
                      std::function<void()> done, Fail fail);
    /// Leaves a group: a leave notice to its admins (each signs our removal, which moves the
    /// group to a new epoch) and to our other devices, and the group is dropped here. An admin
    /// leaves only when another admin remains (refused).
    void leave_group(const crypto::GroupId& group, std::function<void()> done, Fail fail);
    /// Accepts a group request (an invitation from a stranger): its mailbox is read from now on.
    void accept_group(const crypto::GroupId& group, std::function<void()> done, Fail fail);
    /// Declines a group request: it is dropped here, nothing is sent (refused for a group that
    /// is not a request: leave it).
    void decline_group(const crypto::GroupId& group, std::function<void()> done, Fail fail);
    /// Seals a text for the group mailbox and puts it in the outbox, with our new chain queued for
    /// every member device when the epoch is new; `queued` gets the message (flush() sends it).
    void send_group(const crypto::GroupId& group, std::string text, std::function<void(const MessageRecord&)> queued,
                    Fail fail);
    /// Every message held for a gap in its sender's numbers (sender_order.hpp), released now, in
    /// order per sender, as frontends see them; nothing is published (a command that ends shows
    /// them itself: saved, they would otherwise never reach its screen).
    [[nodiscard]] std::vector<sdk::messenger::Message> release_held();
    /// Number of messages still queued (not sent, not failed).
    [[nodiscard]] std::size_t queued_count() const { return model_.queued_keys().size(); }

private:
    /// Callers of flush(): the ones the running flush will answer, and the ones after it.
    struct Waiters {
        bool running = false;
        bool again = false;
        std::vector<std::pair<std::function<void()>, Fail>> current, next;
        std::vector<std::string> keys;  // records queued when the running flush began
    };
    /// A message just opened, with the device that wrote it.
    struct Opened {
        MessageRecord record;
        crypto::PublicKey device{};
    };
    // client.cpp
    void purge_expired();
    /// Arms the expiry timer for the earliest disappearing message (none: stopped), so an idle
    /// daemon does not wake to look.
    void schedule_expiry();
    /// Arms the download timer for the earliest failed download due again (resident only).
    void schedule_download_retry();
    /// The resident receive loop: a round on what the long-poll carried (nothing: the inbox is
    /// fetched), then the next long-poll.
    void receive_loop(std::vector<proto::node::MessageItem> woken_with);
    /// A resident round on `items` (handle_inbox, then the group mailboxes) when no other round
    /// runs: the loop's and a gap search's never open the same envelope twice. Then `then`
    /// (or `fail`).
    void inbox_round(std::vector<proto::node::MessageItem> items, std::function<void()> then, Fail fail);
    /// Runs `job` now if no round runs, else after the rounds queued before it; round_done()
    /// ends the running one and starts the next.
    void in_turn(std::function<void()> job);
    void round_done();
    /// Reads every member of the inbox's swarm for the messages a gap waits for, beside the
    /// receive loop, when gap_searches_ says one is due (at once, or armed on gap_timer_).
    void search_gaps();
    void put_message(const MessageRecord& r, bool added);
    /// Writes `ops`; a failure is only logged (the memory copy is ahead until the next write).
    void write_or_warn(std::vector<sdk::storage::BatchOp> ops, std::function<void()> done);
    // client_send.cpp
    void enqueue(const crypto::VeilId& to, ChatMessage message, std::function<void(const MessageRecord&)> queued,
                 Fail fail);
    void flush_now();
    void flush_finished(const sdk::Error* error);
    void mark_dropped(const crypto::VeilId& to, const MessageId& id, const std::string& why);
    /// A flush nobody waits for (resident mode, after a change was queued).
    void flush_in_background();
    // client_receive.cpp
    /// When a receive round ends: once saved and shown (the resident loop: the delete and the
    /// downloads go on beside the next long-poll), or once the delete is answered and the files
    /// are fetched too (one-shot commands report them, and exit).
    enum class RoundEnd { saved = 1, deleted };
    void handle_inbox(std::vector<proto::node::MessageItem> items, std::function<void(std::vector<MessageRecord>)> done,
                      Fail fail, RoundEnd end = RoundEnd::deleted);
    /// Shows `r` (MessageAdded) now, or holds it while an earlier message of its writer's device
    /// is missing (resident clients; sender_order.hpp).
    void show_in_order(const crypto::PublicKey& device, const MessageRecord& r);
    /// Shows the held messages whose wait ran out, and arms the timer for the next.
    void show_overdue();
    void check_devices(std::shared_ptr<std::vector<Opened>> opened, std::function<void()> then);
    /// Names the accepted contacts (from the model): their sessions and held lists are kept.
    [[nodiscard]] StrangerSessions::IsAccepted is_accepted() const;
    /// Reads each peer's device list and keeps it in the account if newer; `unread` (may be
    /// null) gets those that could not be read. Then `then`.
    void refresh_peer_lists(std::vector<crypto::VeilId> peers, std::shared_ptr<std::vector<crypto::VeilId>> unread,
                            std::function<void()> then);
    /// Resident: reads again every held peer list older than peer_list_refresh_ms_, then saves.
    void refresh_stale_peer_lists();
    /// Arms the next refresh tick (a quarter of peer_list_refresh_ms_, jittered).
    void schedule_peer_list_refresh();
    /// Resident: deletes handled inbox items from the swarm, one request in flight at a time.
    void delete_in_background(std::vector<proto::node::Hash> hashes);
    /// Erases the pending deletes (pending_deletes.hpp) of `hashes` from the database.
    void forget_deleted(const std::vector<proto::node::Hash>& hashes);
    /// Resident start: the pending deletes a previous run left are marked handled and deleted
    /// in the background; then `then` (also when they cannot be read).
    void resume_deletes(std::function<void()> then);
    void store_received(const AccountPtr& account, std::vector<Opened> opened, std::vector<proto::node::Hash> processed,
                        std::function<void(std::vector<MessageRecord>)> done, Fail fail, RoundEnd end);
    /// Saves a round's `ops` with the account; a failed save is tried again after a growing
    /// pause (memory is kept, never reloaded), without end when resident, else kOneShotSaveTries
    /// times; then `saved` (or `fail`).
    static constexpr unsigned kOneShotSaveTries = 3;
    void save_round(const AccountPtr& account, std::vector<sdk::storage::BatchOp> ops, std::function<void()> saved,
                    Fail fail, unsigned tries = 0);
    // client_groups.cpp
    void load_groups(std::function<void()> done, Fail fail);
    /// Gives the book every held device list of the people in its groups.
    void sync_group_devices(std::vector<GroupDelivery>& rotations);
    /// Gives the book `who`'s active devices from the list held for them (none held: nothing).
    void give_group_devices(const crypto::VeilId& who, std::vector<GroupDelivery>& rotations);
    /// Expires group requests and makes owed rotations (adding their deliveries to
    /// `deliveries`); the ops that save the book with them, or none when nothing changed.
    [[nodiscard]] std::vector<sdk::storage::BatchOp> group_upkeep_ops(std::vector<GroupDelivery>& deliveries);
    /// Resident: group_upkeep_ops saved, and what it queued sent.
    void group_upkeep();
    /// Queue entries carrying each delivery over the pairwise sessions.
    /// `ids` (when given) receives the IDs of the messages queued.
    [[nodiscard]] std::vector<sdk::storage::BatchOp> delivery_ops(const std::vector<GroupDelivery>& deliveries,
                                                                  std::vector<MessageId>* ids = nullptr) const;
    /// Takes the group controls out of a round's opened messages into the book; the ops to save
    /// with the round (the book, the deliveries it answers with).
    [[nodiscard]] std::vector<sdk::storage::BatchOp> take_group_controls(std::vector<Opened>& opened);
    /// A leave notice from `from`: our other device left (we drop the group too), or a member
    /// left (the book holds the notice until it is ours to sign: GroupBook::sign_due_leaves).
    void take_leave(const crypto::VeilId& from, const wire::Bytes& body, std::vector<sdk::storage::BatchOp>& ops);
    /// Reads every group mailbox and adds the messages opened to `got`; then `done`.
    void receive_groups(std::vector<MessageRecord> got, std::function<void(std::vector<MessageRecord>)> done);
    void read_group_mailboxes(std::shared_ptr<std::vector<std::pair<crypto::GroupId, crypto::SigningKeyPair>>> boxes,
                              std::size_t next, std::shared_ptr<std::vector<MessageRecord>> got,
                              std::function<void(std::vector<MessageRecord>)> done);
    // client_contacts.cpp
    /// Saves read marks, then tells the frontends (MessageUpdated each, the conversation once).
    void save_read_marks(std::vector<MessageRecord> changed, std::function<sdk::messenger::Conversation()> summary,
                         std::function<void()> done, Fail fail);
    /// Saves a contact; with `sync`, also queues the change for our other devices.
    void update_contact(ContactRecord c, bool sync, std::function<void()> done, Fail fail);
    // client_attachments.cpp
    void download(MessageRecord r, std::function<void()> done);
    /// Fetches `peer`'s attachments that waited for the request to be accepted; then `done`.
    void download_pending(const crypto::VeilId& peer, std::function<void()> done);
    /// After `peer` is accepted: their waiting files (awaited unless resident), then `done`.
    void after_accept(const crypto::VeilId& peer, std::function<void()> done);
    /// Deletes a file this client saved under HOME/attachments (nothing elsewhere).
    void remove_saved_file(const std::string& path);

    sdk::Context& ctx_;
    Service& service_;
    AccountStore& store_;
    SendQueue queue_;
    Conversations model_;
    AccountPtr account_;
    int lock_fd_ = -1;
    bool exclusive_ = true;
    std::uint64_t peer_list_refresh_ms_;  // messenger.peer_list_refresh_s
    ListChecks list_checks_;
    Waiters flush_;
    std::unique_ptr<sdk::Timer> expiry_timer_, retry_timer_, publish_timer_, download_timer_, peer_list_timer_, order_timer_;
    SenderOrder order_{kGapWaitMs};
    GapSearches gap_searches_;  // a message is held: look for the missing one on every member
    std::unique_ptr<sdk::Timer> gap_timer_;
    bool round_busy_ = false;                  // a resident round runs (inbox_round)
    std::deque<std::function<void()>> turns_;  // rounds waiting for it
    RecentHashes handled_{4096};
    InboxReadPolicy read_policy_{now_ms()};
    InboxReadPolicy::Next read_next_;  // what the last long-poll answer asks of the next read
    struct Deletes {
        bool running = false;
        std::vector<proto::node::Hash> pending;
        std::uint64_t retry_ms = 0;  // the pause before a failed delete is sent again (0: none failed)
    } deletes_;
    std::unique_ptr<sdk::Timer> group_timer_;  // group requests' expiry, owed rotations
    RetryBackoff backoff_;
    PublishBackoff publish_backoff_;
    bool resident_ = false;
    std::uint64_t expiry_due_ms_ = 0;  ///< when the expiry timer fires (0: not armed)
    std::unique_ptr<GroupBook> groups_;
    std::vector<MessageId> last_group_queued_;  // last_group_queued()
    std::set<proto::node::Hash> group_handled_;  // group mailbox items opened (or dropped) by this process
};

}  // namespace veil::messenger
