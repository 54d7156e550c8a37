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

/// What one device tells another about a group, inside a pairwise session:
/// u8 version 1 | u8 kind | var body (a GroupState or a SenderKeyDistribution).
enum class GroupControlKind : std::uint8_t { state = 1, chain = 2 };

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

class GroupBook final {
public:
    /// Pending states waiting for the one before them, per group.
    static constexpr std::size_t max_pending_states = 8;
    /// Chains of groups we do not hold yet (their invitation is still on its way), all groups.
    static constexpr std::size_t max_orphan_chains = 64;

    explicit GroupBook(crypto::VeilId self);

    /// The puts that store every group (states, chains, mailboxes, waiting states) under
    /// kGroupPrefix in namespace `ns`; apply them in the batch that saves the ratchet state.
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
    /// state to every member (a removed one is not told the new mailbox), and our chain to the
    /// added members.
    std::vector<GroupDelivery> add(const crypto::Identity& me, const crypto::GroupId& group,
                                   const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms);
    std::vector<GroupDelivery> remove(const crypto::Identity& me, const crypto::GroupId& group,
                                      const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms);
    std::vector<GroupDelivery> make_admin(const crypto::Identity& me, const crypto::GroupId& group,
                                          const crypto::VeilId& id, std::uint64_t now_ms);

    /// A control message that `from`'s device `device` sent us over a pairwise session. A state
    /// of a group we do not hold is an invitation: taken only from its signer and only if it
    /// lists us, and a request unless `from_contact`. A state of a group we hold must be accepted
    /// by GroupState::accept_update (a non-admin's change throws crypto::Error); one that does not
    /// follow yet waits (at most max_pending_states). A chain is taken only from a member of
    /// the group, for the previous, current or next epoch (its state may still be on its way); a
    /// chain of a group we do not hold yet waits for its invitation (max_orphan_chains). Returns what to send in answer: our current
    /// chain to members that were just added.
    std::vector<GroupDelivery> receive_control(const crypto::VeilId& from, const crypto::PublicKey& device,
                                               wire::ByteView payload, bool from_contact);
    /// Accepts a group request: our chain goes out with the next message.
    void accept(const crypto::GroupId& group);

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
    /// The mailboxes to read: the previous epoch's first (older messages), then the current one.
    [[nodiscard]] std::vector<crypto::PublicKey> mailboxes(const crypto::GroupId& group) const;
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
        std::optional<crypto::PublicKey> own_previous;  // our previous epoch's chain, to know our messages
        std::vector<Received> chains;                   // current and previous epoch
        std::vector<crypto::SigningKeyPair> old_mailboxes;  // previous epoch's mailbox
        std::vector<crypto::GroupState> pending;        // states that do not follow yet
    };

    Group& find(const crypto::GroupId& group);
    /// Everyone the group's controls go to: every member and our other devices.
    [[nodiscard]] std::vector<crypto::VeilId> audience(const crypto::GroupState& state) const;
    std::vector<GroupDelivery> adopt(Group& g, crypto::GroupState next);
    std::vector<GroupDelivery> apply_pending(Group& g);
    void take_chain(const crypto::VeilId& from, const crypto::PublicKey& device, wire::ByteView body);
    void adopt_orphans(const crypto::GroupId& group);

    struct Orphan {
        crypto::VeilId from;
        crypto::PublicKey device{};
        crypto::SecretBytes body;
    };

    crypto::VeilId self_;
    std::map<crypto::GroupId, Group> groups_;
    std::vector<Orphan> orphans_;  // oldest first
};

}  // namespace veil::messenger
