#pragma once
/// The messenger contract on the bus: what a frontend (cli, web, rpc, a bot) asks of a running
/// client and what it hears back. Served by the messenger plugin while a resident client runs
/// (`veil daemon`, `veil chat`); every request fails with not_found ("no identity") on a HOME
/// without one. Ids are strings as people and scripts see them: Veil IDs (66 hex chars),
/// message ids (32 hex chars). Nothing here is secret; texts are plaintext, so frontends keep
/// them off logs.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veil/sdk/attachment.hpp"

namespace veil::sdk::messenger {

/// Longest text a message may carry, in bytes of UTF-8 (16 KiB); SendMessage refuses more.
inline constexpr std::size_t kMaxTextBytes = 16 * 1024;

/// Reply of a request that only succeeds or fails.
struct Done {};

/// Where a message is on its way.
enum class Delivery : std::uint8_t {
    queued = 1,  ///< outgoing, not yet stored in every recipient swarm (retried)
    sent,        ///< outgoing, stored in every recipient swarm
    failed,      ///< outgoing, given up (e.g. the attachment upload was refused)
    received,    ///< incoming
};

/// A file carried by a message, as a frontend shows it.
struct AttachmentInfo {
    std::string file_name;
    std::string mime_type;
    std::uint64_t size_bytes = 0;
    /// The verified file as this device keeps it in HOME: still encrypted (ReadAttachment and
    /// SaveAttachment open it); "" while not downloaded.
    std::string saved_path;
    /// A download that failed and will be tried again (with backoff); false once it is kept.
    bool pending = false;
};

/// One message of a conversation.
struct Message {
    std::string id;    ///< 32 hex chars, the same on every device
    std::string peer;  ///< the conversation: the other person's Veil ID
    std::string from;  ///< the sender's Veil ID (own ID for outgoing and synced copies)
    bool outgoing = false;
    std::string text;
    std::uint64_t sent_at_ms = 0;
    std::uint64_t received_at_ms = 0;  ///< when this device got or queued it
    std::uint64_t expires_at_ms = 0;   ///< disappearing messages; 0 = kept
    Delivery delivery = Delivery::received;
    bool read = false;
    std::optional<AttachmentInfo> attachment;
    /// Incoming from a stranger whose message request is not accepted yet (AcceptRequest,
    /// SaveContact or answering with SendMessage accepts it). Always false for outgoing.
    bool request = false;
};

/// One conversation with its summary for a list view.
struct Conversation {
    std::string peer;  ///< Veil ID
    std::string name;  ///< contact name, "" when none
    std::uint32_t unread = 0;
    std::uint64_t last_at_ms = 0;
    std::string last_text;              ///< preview of the newest message
    bool request = false;               ///< from an unknown sender, waiting to be accepted
    bool blocked = false;
    std::uint32_t disappear_after_s = 0;  ///< 0 = messages are kept
};

/// Someone this account knows.
struct Contact {
    std::string id;  ///< Veil ID
    std::string name;
    bool accepted = true;  ///< false while it is a message request
    bool blocked = false;
};

/// One device of this account.
struct Device {
    std::string key;  ///< the device's public key, hex
    std::string name;
    bool this_device = false;
    bool revoked = false;
    std::uint64_t added_at_ms = 0;
};

/// Reply of GetProfile.
struct Profile {
    std::string id;          ///< this account's Veil ID
    std::string device_key;  ///< this device's public key, hex
};

/// Request: who this client is.
struct GetProfile {
    static constexpr std::string_view topic = "veil.messenger.get_profile";
    using Reply = Profile;
};

/// Reply of SendMessage: the message as queued (delivery == queued).
struct Queued {
    Message message;
    /// What the sender should be told about the file, e.g. "PDF document: sent as a file, its
    /// contents are not changed ..."; "" when there is nothing to say.
    std::string notice{};
};

/// Request: queue a message to `to`; it is then sent and retried in the background, and
/// MessageUpdated tells when it is sent (or failed). With `file_path` set the file is processed,
/// encrypted and uploaded first (TransferProgress carries the message id as transfer_id).
/// Sending to someone whose message request is pending accepts that request (as AcceptRequest):
/// answering a stranger makes them a contact. Fails with bad_input on an unknown ID format, a
/// text longer than kMaxTextBytes, an empty message, or a file refused by a processor (e.g. an
/// image, video or audio type whose metadata cannot be removed, unless keep_metadata).
struct SendMessage {
    static constexpr std::string_view topic = "veil.messenger.send";
    using Reply = Queued;
    std::string to;
    std::string text;
    std::string file_path;  ///< "" = text only
    /// The sender explicitly asked to send the file with its metadata (no processor refuses or
    /// rewrites it). Without it, media whose metadata cannot be removed is refused.
    bool keep_metadata = false;
    /// The file's name as the recipient sees it: "" = a neutral name from its type (image.jpg);
    /// else the name the sender explicitly chose to send (UploadAttachment::file_name).
    std::string file_name{};
};

/// Reply of ListConversations.
struct ConversationList {
    std::vector<Conversation> conversations;  ///< newest activity first; requests included
};

/// Request: every conversation.
struct ListConversations {
    static constexpr std::string_view topic = "veil.messenger.list_conversations";
    using Reply = ConversationList;
};

/// Reply of ListMessages.
struct MessageList {
    std::vector<Message> messages;  ///< oldest first
};

/// Request: the newest `limit` messages of one conversation (expired ones are gone).
struct ListMessages {
    static constexpr std::string_view topic = "veil.messenger.list_messages";
    using Reply = MessageList;
    std::string peer;
    std::uint32_t limit = 200;
};

/// Request: mark every message of a conversation read (unread count back to 0).
struct MarkRead {
    static constexpr std::string_view topic = "veil.messenger.mark_read";
    using Reply = Done;
    std::string peer;
};

/// Reply of ListContacts.
struct ContactList {
    std::vector<Contact> contacts;
};

/// Request: every contact, message requests and blocked ones included.
struct ListContacts {
    static constexpr std::string_view topic = "veil.messenger.list_contacts";
    using Reply = ContactList;
};

/// Request: add a contact or rename it; adding also accepts a pending request from it.
struct SaveContact {
    static constexpr std::string_view topic = "veil.messenger.save_contact";
    using Reply = Done;
    std::string id;
    std::string name;
};

/// Request: accept a message request (its messages become a normal conversation).
struct AcceptRequest {
    static constexpr std::string_view topic = "veil.messenger.accept_request";
    using Reply = Done;
    std::string id;
};

/// Request: block or unblock someone. Messages from a blocked ID are dropped on arrival.
struct SetBlocked {
    static constexpr std::string_view topic = "veil.messenger.set_blocked";
    using Reply = Done;
    std::string id;
    bool blocked = true;
};

/// Request: the disappearing-messages timer of a conversation (0 turns it off). Applies to
/// messages sent or received from now on, locally and as their swarm TTL; synced to the
/// peer and to own devices.
struct SetDisappearing {
    static constexpr std::string_view topic = "veil.messenger.set_disappearing";
    using Reply = Done;
    std::string peer;
    std::uint32_t seconds = 0;
};

/// Reply of ListDevices.
struct DeviceList {
    std::vector<Device> devices;
};

/// Request: this account's devices, from its current signed device list.
struct ListDevices {
    static constexpr std::string_view topic = "veil.messenger.list_devices";
    using Reply = DeviceList;
};

/// Reply of ReadAttachment: a received file in plaintext; the caller wipes `bytes` when done.
struct AttachmentContent {
    std::vector<std::uint8_t> bytes;
    std::string file_name;
    std::string mime_type;
};

/// Request: the plaintext of the file that message `message_id` carries (kept encrypted in HOME).
/// not_found: no such message, or its file is not downloaded yet; bad_input: the kept copy does
/// not verify.
struct ReadAttachment {
    static constexpr std::string_view topic = "veil.messenger.read_attachment";
    using Reply = AttachmentContent;
    std::string message_id;
};

/// Reply of SaveAttachment: the plaintext file written.
struct SavedAttachment {
    std::string path;
};

/// Request: write the file of message `message_id` decrypted to `path`, a new file (0600, never
/// over another); when `path` is a directory, to a new file in it named after the file. Served
/// also by a one-shot messenger (`veil attachment save`), which opens the client for it.
struct SaveAttachment {
    static constexpr std::string_view topic = "veil.messenger.save_attachment";
    using Reply = SavedAttachment;
    std::string message_id;
    std::string path;
};

/// Event: a message was added to a conversation (incoming, own outgoing, or a synced copy of
/// one sent from another own device). Also published for message requests.
struct MessageAdded {
    static constexpr std::string_view topic = "veil.messenger.message_added";
    Message message;
};

/// Event: a message changed (delivery state, read, attachment saved).
struct MessageUpdated {
    static constexpr std::string_view topic = "veil.messenger.message_updated";
    Message message;
};

/// Event: a conversation's settings or contact changed (name, request, blocked, timer).
struct ConversationUpdated {
    static constexpr std::string_view topic = "veil.messenger.conversation_updated";
    Conversation conversation;
};

}  // namespace veil::sdk::messenger
