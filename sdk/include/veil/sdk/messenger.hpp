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
    std::string peer;  ///< the conversation: the other person's Veil ID, or the group ID (03...)
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
    /// The closed group's ID (66 chars, "03" + hex) on a group message, then also its `peer`;
    /// "" for a one-to-one message.
    std::string group{};
};

/// One conversation with its summary for a list view.
struct Conversation {
    std::string peer;  ///< Veil ID, or the group ID (03...) of a closed group
    std::string name;  ///< contact name (a group's name), "" when none
    std::uint32_t unread = 0;
    std::uint64_t last_at_ms = 0;
    std::string last_text;              ///< preview of the newest message
    bool request = false;               ///< from an unknown sender, waiting to be accepted
    bool blocked = false;
    std::uint32_t disappear_after_s = 0;  ///< 0 = messages are kept
    /// A closed group: `peer` is its ID; `request` an invitation from a stranger not accepted yet.
    bool group = false;
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
/// `to` may be a closed group's ID (03...): the text is sealed once for the group mailbox
/// (not_found for a group not held, refused for a group request not accepted yet).
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

/// Request: the newest `limit` messages of one conversation (expired ones are gone); `peer` may
/// be a group ID.
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

/// Request: accept a message request (its messages become a normal conversation); with a group
/// ID, accept that group's invitation (its mailbox is read from then on).
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

/// One member of a closed group.
struct GroupMember {
    std::string id;  ///< Veil ID
    bool admin = false;
};

/// A closed group as this device holds it.
struct Group {
    std::string id;  ///< "03" + 64 hex chars
    std::string name;
    bool admin = false;    ///< this account is an admin (may add, remove, promote)
    bool request = false;  ///< an invitation from a stranger, not accepted yet
    std::uint64_t version = 0;
    std::vector<GroupMember> members;
};

/// Reply of ListGroups.
struct GroupList {
    std::vector<Group> groups;
};

/// Request: every group held, requests included, with their members.
struct ListGroups {
    static constexpr std::string_view topic = "veil.messenger.list_groups";
    using Reply = GroupList;
};

/// Request: one group with its members; not_found for a group not held.
struct GetGroup {
    static constexpr std::string_view topic = "veil.messenger.get_group";
    using Reply = Group;
    std::string group;
};

/// Request: make a closed group with this account as admin and `members` (Veil IDs) invited;
/// replies once it is saved and the invitations queued (sent in the background). bad_input on a
/// malformed ID, an empty or too long name, too many members.
struct CreateGroup {
    static constexpr std::string_view topic = "veil.messenger.create_group";
    using Reply = Group;
    std::string name;
    std::vector<std::string> members;
};

/// What ChangeGroup does. Zero is never valid.
enum class GroupChange : std::uint8_t { add = 1, remove, admin };

/// Request: an admin's change of a group: add or remove `members`, or make one of them admin
/// (exactly one). refused when this account is not an admin; not_found for a group not held.
/// Replies with the group's new state once saved (the members are told in the background).
struct ChangeGroup {
    static constexpr std::string_view topic = "veil.messenger.change_group";
    using Reply = Group;
    std::string group;
    GroupChange change = GroupChange::add;
    std::vector<std::string> members;
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
