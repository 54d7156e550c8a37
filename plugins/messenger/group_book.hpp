#pragma once
/// One device's closed groups (docs/groups.md), without the kernel: the group states it holds,
/// its own sender chain per group and the chains other devices handed it; what an admin's change
/// or a received control message means, and who must be told what over the pairwise sessions;
/// sealing a group message for the group mailbox and opening one from it. The caller carries
/// the deliveries through Account (pairwise fan-out) and the envelopes through the swarms.
/// Not thread-safe (loop thread).

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "veil/crypto/envelope.hpp"
#include "veil/crypto/group.hpp"
#include "veil/sdk/storage.hpp"

namespace veil::messenger {

/// Key prefix of the stored groups in the messenger's storage namespace: `group/<id hex>`.
inline constexpr std::string_view kGroupPrefix = "group/";
/// Key of the stored device lists of the people we share groups with (under kGroupPrefix).
inline constexpr std::string_view kGroupDevicesKey = "group/devices";
/// Key of the stored declined invitations (under kGroupPrefix; absent while there are none).
inline constexpr std::string_view kGroupDeclinedKey = "group/declined";
/// Key of the stored leave notices not signed yet (under kGroupPrefix; save_ops erases it while
/// there are none).
inline constexpr std::string_view kGroupLeavesKey = "group/leaves";

/// The storage key of a group's record.
[[nodiscard]] std::string group_record_key(const crypto::GroupId& group);

/// What one device tells another about a group, inside a pairwise session:
/// u8 version 1 | u8 kind | var body (a GroupState, a SenderKeyDistribution, or an invitation:
/// u16 n | n x var GroupState, versions 1 to the current one, only the last with its seed).
enum class GroupControlKind : std::uint8_t { state = 1, chain = 2, invitation = 3 };

/// A control message for the pairwise sessions: to every active device of each ID in `to` (our
/// own ID there means our other devices). Holds secrets (mailbox seed, chain key): guarded.
struct GroupDelivery final {
    std::vector<crypto::VeilId> to;
    crypto::SecretBytes payload;
};

/// A group message opened from the group mailbox.
struct GroupMessage final {
    crypto::GroupId group{};
    crypto::VeilId from;
    crypto::PublicKey device{};  ///< the sending device's signing key
    std::uint64_t epoch = 0;
    std::uint32_t iteration = 0;  ///< order of the messages of one device in one epoch
    wire::Bytes plaintext;
};

/// The encoded control message (guarded) and back (throws crypto::Error{malformed}).
[[nodiscard]] crypto::SecretBytes encode_group_control(GroupControlKind kind, wire::ByteView body);
struct GroupControl final {
    GroupControlKind kind = GroupControlKind::state;
    crypto::SecretBytes body;
};
[[nodiscard]] GroupControl decode_group_control(wire::ByteView bytes);
/// An invitation's body (at most GroupState::max_history states; crypto::Error{too_large}) and
/// back (crypto::Error{malformed}; does not verify).
[[nodiscard]] crypto::SecretBytes encode_group_invitation(const std::vector<const crypto::GroupState*>& history);
[[nodiscard]] std::vector<crypto::GroupState> decode_group_invitation(wire::ByteView body);

class GroupBook final {
public:
    /// Pending states waiting for the one before them, per group, and per signer: a signer over
    /// its quota gives up its highest; a full list gives up the highest of its biggest signer,
    /// signers that are admins of no state held first; the lowest version an admin of a held
    /// state signed (the one needed next) stays.
    static constexpr std::size_t max_pending_states = 8;
    static constexpr std::size_t max_pending_per_signer = 2;
    /// Chains of groups we do not hold yet (their invitation is still on its way), all groups,
    /// and per sender, with the same quota rule.
    static constexpr std::size_t max_orphan_chains = 64;
    static constexpr std::size_t max_orphans_per_sender = 4;
    /// Group requests (invitations from strangers) held, in all and per signer; more are refused.
    static constexpr std::size_t max_requests = 64;
    static constexpr std::size_t max_requests_per_signer = 4;
    /// Earlier epochs whose mailboxes (and chains) are still read, for members that were offline
    /// during several changes (every add and remove moves the epoch).
    static constexpr std::size_t max_old_epochs = 4;
    /// Received chains held per group (a few epochs of every member device); more are refused.
    static constexpr std::size_t max_chains = 20000;
    /// The last versions kept whole in a group's history (a fork up to this far back is judged);
    /// older ones are kept only where the admins changed (the admin line, docs/groups.md).
    static constexpr std::size_t recent_history = 32;
    /// Bytes all group requests may hold (their histories); more are refused.
    static constexpr std::size_t max_request_bytes = 4 << 20;
    /// A group request not accepted within this time goes (expire_requests).
    static constexpr std::uint64_t request_ttl_ms = 14ull * 24 * 3600 * 1000;
    /// Device lists stored (people we share groups with) and devices per person.
    static constexpr std::size_t max_device_lists = 20000;
    static constexpr std::size_t max_devices_per_person = 1000;
    /// Read cursors kept per mailbox (one per service node read from).
    static constexpr std::size_t max_cursors_per_mailbox = 8;
    /// Waiting envelopes kept per group, and their bytes; and per member its envelope claims
    /// (the certificate sealed inside: a copy of anyone's, so only a claim), in number and bytes.
    static constexpr std::size_t max_waiting_items = 32;
    static constexpr std::size_t max_waiting_bytes = 256 << 10;
    static constexpr std::size_t max_waiting_per_member = 8;
    static constexpr std::size_t max_waiting_bytes_per_member = 128 << 10;
    /// Waiting envelopes given up for room that are remembered (their hash, mailbox and claimed
    /// owner: a chain from that owner pulls the mailbox's cursors back), per group and per owner.
    static constexpr std::size_t max_evicted = 32;
    static constexpr std::size_t max_evicted_per_member = 8;
    /// Declined invitations remembered, in all and per signer (the oldest go).
    static constexpr std::size_t max_declined = 256;
    static constexpr std::size_t max_declined_per_signer = 16;
    /// Leave notices held until they are ours to sign: in all, per leaver, and for how long.
    static constexpr std::size_t max_held_leaves = 64;
    static constexpr std::size_t max_held_leaves_per_leaver = 4;
    static constexpr std::uint64_t leave_hold_ms = 14ull * 24 * 3600 * 1000;
    /// Revocations that make us rotate a group within rotation_window_ms: more wait for the
    /// window to pass (a member cycling devices cannot make every admin rotate without end).
    static constexpr std::size_t max_rotations_per_window = 2;
    static constexpr std::uint64_t rotation_window_ms = 3600ull * 1000;

    explicit GroupBook(crypto::VeilId self);

    /// The puts that store every group (history, states, chains, mailboxes, waiting states) under
    /// kGroupPrefix in namespace `ns`, and the device lists (kGroupDevicesKey: a revocation that
    /// happens while we are down is seen at the first list after a restart); apply them in the
    /// batch that saves the ratchet state.
    /// Chains still waiting for their invitation are not stored (they come again with the
    /// next rotation).
    [[nodiscard]] std::vector<sdk::storage::BatchOp> save_ops(std::string_view ns) const;
    /// From the entries of a scan of kGroupPrefix. Throws crypto::Error{malformed} for a
    /// damaged record.
    static GroupBook load(crypto::VeilId self, const std::vector<sdk::storage::Entry>& entries);

    /// A new group with us as admin; `created` receives its ID. Deliveries: the state to every
    /// member and our other devices.
    std::vector<GroupDelivery> create(const crypto::Identity& me, std::string_view name,
                                      const std::vector<crypto::VeilId>& members, std::uint64_t now_ms,
                                      crypto::GroupId& created);
    /// Admin changes (crypto::Error{untrusted_key} when we are not an admin). Deliveries: the new
    /// state to every member (a removed one is not told the new mailbox); to added members the
    /// group's history as an invitation. Adding and removing move the group to a new epoch.
    std::vector<GroupDelivery> add(const crypto::Identity& me, const crypto::GroupId& group,
                                   const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms);
    std::vector<GroupDelivery> remove(const crypto::Identity& me, const crypto::GroupId& group,
                                      const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms);
    std::vector<GroupDelivery> make_admin(const crypto::Identity& me, const crypto::GroupId& group,
                                          const crypto::VeilId& id, std::uint64_t now_ms);

    /// A member's current device list (from its peer list; our own ID for our devices). Chains
    /// are taken only from listed devices, and the chains of devices no longer listed go at once
    /// (a revoked device's messages are not read). When a device that was listed is gone (the
    /// lists are stored, so also across a restart), each group of that member where we are an
    /// admin moves to a new epoch (GroupState::with_rotated, a fresh seed): the revoked device
    /// reads nothing newer. Every admin rotates on its own view; when two do, every device keeps
    /// the same one (GroupState::prefers). Returns the deliveries of those rotations.
    std::vector<GroupDelivery> devices_changed(const crypto::Identity& me, const crypto::VeilId& member,
                                               std::vector<crypto::PublicKey> active);
    /// The same with a clock: a group rotates for revocations at most max_rotations_per_window
    /// times within rotation_window_ms; a revocation past that is owed, and rotate_owed makes it
    /// once the window has passed (a member revoking and re-adding devices in a loop costs one
    /// rotation an hour, not one each time). A member's first revocation in a window always
    /// rotates at once, so one member cycling devices cannot delay another's revocation of a
    /// stolen phone.
    std::vector<GroupDelivery> devices_changed(const crypto::Identity& me, const crypto::VeilId& member,
                                               std::vector<crypto::PublicKey> active, std::uint64_t now_ms);
    /// The rotations owed (above) whose window has passed, with their deliveries.
    std::vector<GroupDelivery> rotate_owed(const crypto::Identity& me, std::uint64_t now_ms);

    /// A control message that `from`'s device `device` sent us over a pairwise session. A group
    /// we do not hold comes only as an invitation: its whole history (GroupState::accept_history),
    /// its last state signed by `from` and listing us, a request unless `from_contact` (at most
    /// max_requests, max_request_bytes); an invitation of a group we hold brings the versions we
    /// miss, or a branch that wins over ours (GroupState::prefers), one version at a time (never
    /// a jump); a branch begun by an admin we saw removed is refused. A state of a group we hold
    /// must be accepted by GroupState::accept_update (a non-admin's change throws crypto::Error);
    /// one that does not follow yet waits (max_pending_states); one of a version we hold is a
    /// fork, kept only when it wins (else crypto::Error{stale_version}). A chain is taken
    /// only from a listed device of a member of the group, for the four earlier, current or next
    /// epoch (its state may still be on its way); a chain of a group we do not hold yet waits for
    /// its invitation (max_orphan_chains). Returns what to send in answer (nothing for now: a new
    /// epoch's chain goes out with our next message).
    std::vector<GroupDelivery> receive_control(const crypto::VeilId& from, const crypto::PublicKey& device,
                                               wire::ByteView payload, bool from_contact);
    /// Drops a group (we left it): its state, chains and mailboxes. Erase its record
    /// (group_record_key) in the same batch.
    void forget(const crypto::GroupId& group);
    /// Accepts a group request: our chain goes out with the next message.
    void accept(const crypto::GroupId& group);
    /// Drops the group requests first seen (by this call) more than request_ttl_ms before `now_ms`;
    /// returns their IDs (erase their records, group_record_key, in the batch that saves the book).
    std::vector<crypto::GroupId> expire_requests(std::uint64_t now_ms);
    /// Declines a group request: drops it as expire_requests would (erase its record) and
    /// remembers it (stored, max_declined): an invitation of that group at the declined epoch or
    /// an earlier one is refused (crypto::Error{stale_version}), one at a later epoch (the admin
    /// removed and added us again) is a request again. std::out_of_range for an unknown group,
    /// crypto::Error{invalid_argument} for a group that is not a request (leave it instead).
    void decline(const crypto::GroupId& group);
    /// Declines every group request `signer` brought (we block them); returns their IDs.
    std::vector<crypto::GroupId> decline_from(const crypto::VeilId& signer);

    /// A leave notice from `leaver` naming the digest of the state it left (docs/groups.md
    /// §Leaving), for a group we hold whose state lists `leaver` (anyone else's is ignored): kept
    /// (one per group and leaver, the newest; bounded, stored) until sign_due_leaves signs or
    /// drops it.
    void hold_leave(const crypto::GroupId& group, const crypto::VeilId& leaver, const crypto::Digest& named,
                    std::uint64_t now_ms);
    /// Signs the removals whose turn has come (leave_step over the state we hold now: the
    /// designated admin at once, the next admins in line after kLeaveFallbackMs each, an admin
    /// that was behind once it holds the named state) and drops the stale ones and those held
    /// longer than leave_hold_ms. Returns the removals' deliveries.
    std::vector<GroupDelivery> sign_due_leaves(const crypto::Identity& me, std::uint64_t now_ms);
    /// Leave notices held (a drop by sign_due_leaves changes this: save the book then).
    [[nodiscard]] std::size_t held_leaves() const { return leaves_.size(); }

    /// Where our last read of one of the group's mailboxes on service node `node` ended (a
    /// cursor means something only on the node that gave it: each keeps its own order). Stored
    /// with the book; dropped with the mailbox.
    [[nodiscard]] std::optional<crypto::PublicKey> cursor(const crypto::GroupId& group, const crypto::PublicKey& mailbox,
                                                          const crypto::PublicKey& node) const;
    void set_cursor(const crypto::GroupId& group, const crypto::PublicKey& mailbox, const crypto::PublicKey& node,
                    const crypto::PublicKey& last_hash);
    /// Envelopes read past the cursor whose chain had not arrived (Opened::waiting): kept and
    /// opened again at the next read, but only when sealed under the certificate of a member of
    /// the group from a device its list names (any device while we hold no list for them): a
    /// stranger's junk is refused. That certificate can be copied from any envelope, so the owner
    /// is only claimed. Bounded by max_waiting_items and max_waiting_bytes, and per claimed owner
    /// by max_waiting_per_member and max_waiting_bytes_per_member: an owner over its quota gives
    /// up its own oldest, a full book the oldest of the owner holding the most. An envelope given
    /// up was passed by the cursors: it is remembered (max_evicted), and when a chain from its
    /// claimed owner arrives, the cursors of its mailbox are dropped so the next read takes it
    /// again; the cursors never move back for anything else (no read restarts for ever).
    enum class Hold { held = 1, refused };
    Hold hold_waiting(const crypto::GroupId& group, wire::ByteView envelope);
    [[nodiscard]] std::vector<wire::Bytes> take_waiting(const crypto::GroupId& group);

    /// Seals one group message for the group mailbox (namespace 0), ratcheting our chain. When we
    /// have no chain for the current epoch, a new one is made and its distribution is added to
    /// `deliveries` (to every member and our other devices): send those before the envelope.
    crypto::SealedEnvelope send(const crypto::GroupId& group, const crypto::DeviceCertificate& me,
                                wire::ByteView plaintext, std::uint64_t ttl_ms,
                                std::vector<GroupDelivery>& deliveries);
    /// Opens an envelope fetched from one of the group's mailboxes: opened, our own (this
    /// device wrote it), or waiting (the chain that wrote it is not known yet: keep it and try
    /// again after the next controls; a message re-sealed by another member stays there too).
    /// Throws crypto::Error for anything else (drop it): forged, replayed, of another mailbox,
    /// sealed under a certificate its chain's owner did not sign.
    enum class Opened { message = 1, own, waiting };
    Opened open(const crypto::GroupId& group, wire::ByteView envelope, GroupMessage& out);

    [[nodiscard]] const crypto::GroupState* state(const crypto::GroupId& group) const;
    [[nodiscard]] bool is_request(const crypto::GroupId& group) const;
    [[nodiscard]] std::vector<crypto::GroupId> groups() const;
    /// The mailboxes to read: earlier epochs' first (older messages), then the current one.
    [[nodiscard]] std::vector<crypto::PublicKey> mailboxes(const crypto::GroupId& group) const;
    /// The owner key pairs of those mailboxes, in the same order (to sign retrieves). Secret.
    [[nodiscard]] std::vector<crypto::SigningKeyPair> mailbox_keys(const crypto::GroupId& group) const;
    /// Chains held for the group (ours excluded).
    [[nodiscard]] std::size_t chain_count(const crypto::GroupId& group) const;

private:
    struct Received {
        crypto::VeilId owner;
        crypto::PublicKey device{};
        crypto::SenderChain chain;
    };
    struct Group {
        crypto::GroupState state;
        bool request = false;
        std::optional<crypto::SenderChain> own;
        std::vector<crypto::PublicKey> own_previous;    // our earlier epochs' chains, to know our messages
        std::vector<Received> chains;                   // current and previous epoch
        std::vector<crypto::SigningKeyPair> old_mailboxes;  // earlier epochs' mailboxes, oldest first
        std::vector<crypto::GroupState> pending;        // states that do not follow yet
        std::vector<crypto::GroupState> history;        // the admin line and the last versions, without seeds
        std::uint64_t request_seen_ms = 0;              // when expire_requests first saw the request
        struct Cursor {
            crypto::PublicKey mailbox{}, node{}, last{};
        };
        std::vector<Cursor> cursors;                    // oldest first
        struct Waiting {
            crypto::VeilId owner;        // the member whose certificate sealed it
            crypto::PublicKey mailbox{};
            wire::Bytes envelope;
        };
        std::vector<Waiting> waiting;                   // envelopes whose chain had not arrived, oldest first
        struct Evicted {
            crypto::VeilId owner;        // claimed: the certificate sealed inside
            crypto::PublicKey mailbox{};
            crypto::PublicKey hash{};    // proto::node::message_hash of the envelope
        };
        std::vector<Evicted> evicted;                   // waiting envelopes given up for room, oldest first
        std::uint64_t rotation_window_ms = 0;           // when the current window of revocation rotations began
        std::uint8_t rotations = 0;                     // revocation rotations in that window
        bool rotation_owed = false;                     // a revocation waits for the next window
        std::vector<crypto::VeilId> revokers;           // members whose revocation rotated in this window (not stored)
    };

    Group& find(const crypto::GroupId& group);
    /// Record v5's tail: u8 n (mailbox | node | last hash) | u8 n (var waiting envelope)
    /// | u64 rotation window start | u8 rotations in it | u8 owed | u8 n (owner | mailbox | hash
    /// of an evicted envelope; absent in v4).
    static void write_read_state(wire::Writer& w, const Group& g);
    static void read_read_state(wire::Reader& r, Group& g, bool with_evicted);
    /// Gives up one waiting envelope for room, remembering it (max_evicted).
    static void give_up_waiting(Group& g, std::size_t index);
    /// A chain from `owner` arrived: the mailboxes where its evicted envelopes lie are read again
    /// from the start (their cursors dropped), and those envelopes forgotten.
    static void rewind_for(Group& g, const crypto::VeilId& owner);
    /// Everyone the group's controls go to: every member and our other devices.
    [[nodiscard]] std::vector<crypto::VeilId> audience(const crypto::GroupState& state) const;
    void adopt(Group& g, crypto::GroupState next);
    void change(Group& g, crypto::GroupState incoming);
    void take_invitation(const crypto::VeilId& from, wire::ByteView body, bool from_contact);
    void hold_pending(Group& g, crypto::GroupState incoming);
    void apply_pending(Group& g);
    void rival(Group& g, crypto::GroupState incoming);
    void merge(Group& g, std::vector<crypto::GroupState> line);
    void refuse_removed_signer(const Group& g, const crypto::GroupState& base, const crypto::GroupState& first);
    void switch_branch(Group& g, std::uint64_t base_version, std::vector<crypto::GroupState> branch);
    [[nodiscard]] std::size_t request_bytes() const;
    [[nodiscard]] bool listed_device(const crypto::VeilId& member, const crypto::PublicKey& device) const;
    void take_chain(const crypto::VeilId& from, const crypto::PublicKey& device, wire::ByteView body);
    /// Takes the orphan chains of `group` (its invitation arrived), or those `member` sent (their
    /// device list arrived); one whose sender's devices are still unknown stays an orphan.
    void adopt_orphans(const crypto::GroupId* group, const crypto::VeilId* member);
    /// The key pair of one of the group's mailboxes (current or earlier), if it is one.
    [[nodiscard]] static std::optional<crypto::SigningKeyPair> mailbox_of(const Group& g, const crypto::PublicKey& mailbox);
    /// Who sealed a waiting envelope, when it is a member's from a device its list names.
    [[nodiscard]] std::optional<Group::Waiting> waiting_entry(const Group& g, wire::ByteView envelope) const;
    /// Stored device lists of people who share no group with us any more are dropped: a declined
    /// or expired request leaves none behind.
    void prune_device_lists();
    void remember_declined(const crypto::GroupId& id, const Group& g);
    /// Rotates `g` for a revocation by `revoker` now (its first in the window, or within the
    /// window's quota), or owes it. rotate_owed passes no revoker.
    void rotate_for_revocation(const crypto::Identity& me, Group& g, std::uint64_t now_ms,
                               const crypto::VeilId* revoker, std::vector<GroupDelivery>& out);

    struct Orphan {
        crypto::VeilId from;
        crypto::PublicKey device{};
        crypto::SecretBytes body;
    };

    crypto::VeilId self_;
    std::map<crypto::GroupId, Group> groups_;
    std::vector<Orphan> orphans_;  // oldest first
    std::map<crypto::VeilId, std::vector<crypto::PublicKey>> devices_;  // from the peer lists; stored
    struct Declined {
        crypto::GroupId group{};
        crypto::VeilId signer;
        std::uint64_t epoch = 0;
    };
    std::vector<Declined> declined_;  // oldest first; stored under kGroupDeclinedKey
    struct HeldLeave {
        crypto::GroupId group{};
        crypto::VeilId leaver;
        crypto::Digest named{};
        std::uint64_t since_ms = 0;
    };
    std::vector<HeldLeave> leaves_;  // oldest first; stored under kGroupLeavesKey
};

}  // namespace veil::messenger
