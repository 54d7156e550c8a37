#pragma once
/// The client core shared by every command and by the resident client (`veil daemon`, `veil
/// chat`): the account, its contacts and messages (kept in memory, written through to the
/// database), and the one code path for sending a message and for handling a received one.
/// One-shot commands call open(), then send()/flush()/receive_once(); the resident client also
/// calls run(): a receive loop (long-poll, polling fallback), send retries and the expiry timer.
/// Publishes MessageAdded, MessageUpdated and ConversationUpdated (sdk/messenger.hpp) on the bus.
/// Loop-thread only.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "record.hpp"
#include "service.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::messenger {

/// The error sentence when no plugin serves the attachment contract.
inline constexpr std::string_view kNoAttachments = "attachments are not enabled (add \"attachments\" to kernel.plugins)";
/// The error of a message request's attachment until the request is accepted.
inline constexpr std::string_view kNotFetched = "not downloaded: accept the request to fetch it";

class Client final {
public:
    Client(sdk::Context& ctx, Service& service);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Loads the account, contacts and messages and deletes expired messages. Fails with a
    /// sentence when HOME has no identity ("... run veil init ..."). `exclusive` (anything that
    /// writes) also takes HOME's lock and fails while another process (a daemon, a chat) holds
    /// it; without it (id, listings) the client still deletes expired messages when the lock is
    /// free, and only reads when another process holds it.
    void open(std::function<void()> done, Fail fail, bool exclusive = true);
    [[nodiscard]] bool is_open() const { return account_ != nullptr; }
    [[nodiscard]] const AccountPtr& account() const { return account_; }

    /// Queues a message (text, a file, or both) to `to` and saves it; `queued` gets the record
    /// (delivery queued). A file is uploaded first through the attachment contract. Writing to
    /// someone accepts their request. Call flush() (or run()) to send it.
    void send(const crypto::VeilId& to, std::string text, std::string file_path,
              std::function<void(const MessageRecord&)> queued, Fail fail);
    /// Sends everything queued (and publishes the account if due); `done` once all is stored in
    /// every recipient swarm. Never runs twice at once: a call during a flush waits for the next.
    void flush(std::function<void()> done, Fail fail);
    /// One receive round: fetch the inbox, open, apply contacts/blocking/timers, save, delete from
    /// the swarm, download attachments; `done` gets the messages added (oldest first).
    void receive_once(std::function<void(std::vector<MessageRecord>)> done, Fail fail);
    /// Reads our current device list from the swarm and keeps it if newer (copies from a revoked
    /// device of ours are refused from then on; a new device gets our syncs); then `then`, also
    /// when the network fails.
    void refresh_own_devices(std::function<void()> then);
    /// Resident mode: receive loop, send retries, expiry timer, until destroyed.
    void run();

    /// Contacts (message requests and blocked IDs included).
    [[nodiscard]] std::vector<ContactRecord> contacts() const;
    [[nodiscard]] std::optional<ContactRecord> contact(const crypto::VeilId& id) const;
    /// Adds or renames a contact; it is accepted too.
    void save_contact(const crypto::VeilId& id, std::string name, std::function<void()> done, Fail fail);
    /// Accepts a message request (fails when there is none and no contact).
    void accept(const crypto::VeilId& id, std::function<void()> done, Fail fail);
    void set_blocked(const crypto::VeilId& id, bool blocked, std::function<void()> done, Fail fail);
    /// Sets the conversation's disappearing timer and tells the peer and own devices (queued:
    /// call flush()).
    void set_disappearing(const crypto::VeilId& peer, std::uint32_t seconds, std::function<void()> done, Fail fail);

    /// Views for frontends.
    [[nodiscard]] std::vector<sdk::messenger::Conversation> conversations() const;
    [[nodiscard]] std::vector<MessageRecord> messages(const crypto::VeilId& peer, std::size_t limit) const;
    void mark_read(const crypto::VeilId& peer, std::function<void()> done, Fail fail);
    [[nodiscard]] sdk::messenger::Message view(const MessageRecord& r) const;
    [[nodiscard]] sdk::messenger::Conversation conversation(const crypto::VeilId& peer) const;
    /// True when `peer`'s messages are a request (unknown sender, not accepted yet).
    [[nodiscard]] bool is_request(const crypto::VeilId& peer) const;
    /// Number of messages still queued (not sent, not failed).
    [[nodiscard]] std::size_t queued_count() const;

private:
    struct Waiters;
    /// A message just opened, with the device that wrote it.
    struct Opened {
        MessageRecord record;
        crypto::PublicKey device{};
    };
    void check_devices(std::shared_ptr<std::vector<Opened>> opened, std::function<void()> then);
    void store_received(const AccountPtr& account, std::vector<Opened> opened, std::vector<proto::node::Hash> processed,
                        std::function<void(std::vector<MessageRecord>)> done, Fail fail);
    void write(std::vector<sdk::storage::BatchOp> ops, std::function<void()> done, Fail fail);
    void load_contacts_and_messages(AccountPtr a, std::function<void()> done, Fail fail);
    void load_contacts(std::function<void()> done, Fail fail);
    /// After a failed save: the account and contacts as the database holds them, then `then`.
    void reload_after_failed_save(std::function<void()> then);
    void load_prefix(std::string_view prefix, std::function<void(std::vector<sdk::storage::Entry>)> done, Fail fail);
    void enqueue(const crypto::VeilId& to, ChatMessage message, std::function<void(const MessageRecord&)> queued,
                 Fail fail);
    /// Saves a contact; with `sync`, also queues the change for our other devices.
    void update_contact(ContactRecord c, bool sync, std::function<void()> done, Fail fail);
    void flush_now();
    void flush_finished(const std::string* error);
    void mark_dropped(const crypto::VeilId& to, const MessageId& id, const std::string& why);
    void apply_incoming(MessageRecord& r, std::vector<sdk::storage::BatchOp>& ops,
                        std::vector<crypto::VeilId>& changed, bool& keep);
    void download(MessageRecord r, std::function<void()> done);
    /// Fetches `peer`'s attachments that waited for the request to be accepted; then `done`.
    void download_pending(const crypto::VeilId& peer, std::function<void()> done);
    /// After `peer` is accepted: their waiting files (awaited unless resident), then `done`.
    void after_accept(const crypto::VeilId& peer, std::function<void()> done);
    void purge_expired();
    /// Deletes a file this client saved under HOME/attachments (nothing elsewhere).
    void remove_saved_file(const std::string& path);
    void receive_loop();
    void put_message(const MessageRecord& r, bool added);
    [[nodiscard]] MessageRecord* find(const std::string& key);

    sdk::Context& ctx_;
    Service& service_;
    AccountPtr account_;
    int lock_fd_ = -1;
    bool exclusive_ = true;
    std::map<std::string, MessageRecord> messages_;  // by record_key: per conversation, in time order
    std::map<crypto::VeilId, ContactRecord> contacts_;
    std::map<crypto::VeilId, crypto::DeviceList> peer_lists_;  // peers' device lists as last read
    std::unique_ptr<Waiters> flush_;
    std::unique_ptr<sdk::Timer> expiry_timer_, retry_timer_;
    std::uint64_t retry_ms_ = 0;
    bool resident_ = false;
};

}  // namespace veil::messenger
