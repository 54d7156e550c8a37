#pragma once
/// Closed groups (docs/groups.md): the signed, versioned group state that every member holds and
/// checks, and sender-key chains (Signal's sender keys) that encrypt one copy of each message for
/// the whole group. Every object is a single-threaded value; secrets live in guarded memory.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "veil/crypto/identity.hpp"

namespace veil::crypto {

/// BLAKE2b-256 of the creator's identity key and a nonce: names a group, bound to its creator.
using GroupId = std::array<std::uint8_t, 32>;
/// BLAKE2b-256 (also file.hpp's): here, of a signed group state, which its successor signs.
using Digest = std::array<std::uint8_t, 32>;

inline constexpr std::size_t group_id_chars = 66;

/// "03" + 64 lower-case hex characters (a person's ID starts with "05").
std::string group_id_str(const GroupId& id);
/// Parses "03" + 64 hex characters; throws Error{invalid_id} naming the fault.
GroupId parse_group_id(std::string_view text);

/// What a member may do. The zero value is not a valid role.
enum class GroupRole : std::uint8_t { member = 1, admin = 2 };

struct GroupMember final {
    VeilId id;
    GroupRole role = GroupRole::member;
    friend bool operator==(const GroupMember&, const GroupMember&) = default;
};

/// The member list of a group, signed by an admin. Changes produce a new state with version + 1,
/// signed by an admin of the state they replace; a change of members (added or removed) or a
/// rotation also moves to a new epoch with a new mailbox seed. The signature covers the
/// mailbox's public key, not its seed: a state without its seed (public_copy) still verifies,
/// which is how a newcomer checks the group's history without reading its old mailboxes. A state
/// with its seed is a secret: encode() returns guarded bytes, to be sent only inside pairwise
/// sessions and stored only in the encrypted database. Move-only.
class GroupState final {
public:
    static constexpr std::size_t max_members = 1000;
    static constexpr std::size_t max_name_bytes = 128;
    /// Highest version and epoch taken: far from the top of u64, never reached one change at a time.
    static constexpr std::uint64_t max_version = std::uint64_t{1} << 32;
    /// Longest history (versions 1 to the current one) an invitation carries.
    static constexpr std::size_t max_history = 1000;

    /// A new group (version 1, epoch 1): the creator as admin and `members` as members.
    static GroupState create(const Identity& creator, std::string_view name,
                             const std::vector<VeilId>& members, std::uint64_t now_ms);

    /// The next state with `ids` added as members (already listed ones are an error), in a new
    /// epoch with a fresh mailbox seed: newcomers read nothing sent before they joined.
    [[nodiscard]] GroupState with_added(const Identity& admin, const std::vector<VeilId>& ids,
                                        std::uint64_t now_ms) const;
    /// The next state without `ids`, in a new epoch with a fresh mailbox seed. The admin cannot
    /// remove itself (it would hold the new seed): it leaves, and another admin removes it.
    [[nodiscard]] GroupState with_removed(const Identity& admin, const std::vector<VeilId>& ids,
                                          std::uint64_t now_ms) const;
    /// The next state with the same members, in a new epoch with a fresh random mailbox seed (a
    /// member's device was revoked; nothing that device holds derives it). Two admins (or two
    /// devices of one) rotating at once make two states of one version: prefers() picks the same
    /// one on every device, and both keep the same members, so the race is harmless.
    [[nodiscard]] GroupState with_rotated(const Identity& admin) const;
    /// The next state with member `id` given `role`.
    [[nodiscard]] GroupState with_role(const Identity& admin, const VeilId& id, GroupRole role,
                                       std::uint64_t now_ms) const;

    /// Checks a state on its own: the ID is bound to the creator and nonce, version 1 is signed
    /// by the creator, the signer is an admin of this state and signed it, the members are well
    /// formed, version and epoch within max_version. Not enough to believe a state of a group not
    /// held yet (any member can sign a state naming itself admin): see accept_history.
    /// Throws Error{untrusted_key}, Error{bad_signature}, Error{too_large} or
    /// Error{invalid_argument}.
    void verify_self() const;
    /// Accepts `incoming` over the state held: verify_self(), same group, exactly the next
    /// version, made from `current` (its signed predecessor digest), signed by an admin of `current`, and a change of members only with the next epoch
    /// and a new mailbox. Throws Error{untrusted_key}, Error{stale_version} (not newer),
    /// Error{too_many_skipped} (a later version: its predecessor has not arrived),
    /// Error{bad_signature} or Error{invalid_argument}. Returns incoming.
    static GroupState accept_update(const GroupState& current, GroupState incoming);
    /// Accepts a group not held yet from its admin line (docs/groups.md §Invitations): the
    /// genesis by its creator, then states in rising versions, each accepted over the one before:
    /// with accept_update when it is the very next version, and when versions were left out
    /// (only ones that did not change the admins are), with accept_jump. The last one carries its
    /// mailbox seed. Throws as accept_update, or Error{too_large} beyond max_history. Returns the
    /// last state.
    static GroupState accept_history(std::vector<GroupState> history);
    /// Accepts `incoming` over `earlier` when the versions between them were left out of an
    /// admin line: verify_self(), same group, a later version, signed by an admin of `earlier`,
    /// the epoch not going back (and the same mailbox and members in the same epoch). Only for a
    /// newcomer that holds nothing: a member takes one version at a time. Throws as accept_update.
    static GroupState accept_jump(const GroupState& earlier, GroupState incoming);
    /// Two branches of one group parted after `base` (each a list of states in rising versions,
    /// each accepted over the one before, the first over base): true when every member keeps
    /// `theirs` rather than `ours` (docs/groups.md §Forks). Only the first state of each branch
    /// counts, by fork_rank (lower wins): a total order, so every device converges whatever the
    /// arrival order, and neither length nor version (a removed admin can make up either) decides.
    static bool prefers(const GroupState& base, const std::vector<const GroupState*>& ours,
                        const std::vector<const GroupState*>& theirs);
    /// The key of a branch's first state over `base` (lower wins): one that drops an admin of base
    /// first, then one that moves to a new epoch (a removal, add or rotation), then the lower
    /// signer ID, then the lower signature.
    static std::tuple<int, int, VeilId, Signature> fork_rank(const GroupState& base, const GroupState& first);
    /// BLAKE2b-256 of the signed state and its signature: what the next version signs as its
    /// predecessor (so a state applies only on the one it was made from).
    [[nodiscard]] Digest digest() const;
    /// The digest of the state this one follows (zero for the genesis).
    [[nodiscard]] const Digest& previous() const { return previous_; }
    /// True when both hold the same members (whatever their roles).
    [[nodiscard]] bool same_members(const GroupState& other) const;
    /// True when both hold the same admins.
    [[nodiscard]] bool same_admins(const GroupState& other) const;
    /// True when both are the same signed state (same version and signature).
    [[nodiscard]] bool same_signed(const GroupState& other) const {
        return version_ == other.version_ && signature_ == other.signature_;
    }

    [[nodiscard]] const GroupId& group_id() const { return group_id_; }
    [[nodiscard]] std::uint64_t version() const { return version_; }
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] std::uint64_t issued_ms() const { return issued_ms_; }
    [[nodiscard]] const std::vector<GroupMember>& members() const { return members_; }
    [[nodiscard]] const GroupMember* find(const VeilId& id) const;
    [[nodiscard]] bool is_member(const VeilId& id) const { return find(id) != nullptr; }
    [[nodiscard]] bool is_admin(const VeilId& id) const;
    /// The Veil ID of the admin who signed this state.
    [[nodiscard]] VeilId signer() const { return veil_id_of(signer_key_); }
    /// The group mailbox's owner key pair (Ed25519, for owner-signed retrieve and delete; its
    /// X25519 conversion is what messages are sealed to). Error{no_session} without the seed.
    [[nodiscard]] SigningKeyPair mailbox_keys() const;
    /// The mailbox's public key (signed; known with or without the seed).
    [[nodiscard]] const PublicKey& mailbox_key() const { return mailbox_key_; }
    [[nodiscard]] bool has_seed() const { return !mailbox_seed_.empty(); }

    [[nodiscard]] GroupState clone() const;
    /// The same signed state without the mailbox seed (for a newcomer's history).
    [[nodiscard]] GroupState public_copy() const;
    /// Storage and wire form (guarded: it may hold the mailbox seed), and back (Error{malformed},
    /// also for a seed that does not match the signed mailbox key; does not verify).
    [[nodiscard]] SecretBytes encode() const;
    static GroupState decode(ByteView bytes);

private:
    GroupState() = default;
    [[nodiscard]] Bytes signed_part() const;
    [[nodiscard]] GroupState signed_next(const Identity& admin, std::vector<GroupMember> members,
                                         SecretBytes new_seed, std::uint64_t now_ms) const;
    void check_members() const;

    GroupId group_id_{};
    PublicKey creator_key_{};
    std::array<std::uint8_t, 16> nonce_{};
    Digest previous_{};  // digest() of the predecessor, signed
    std::uint64_t version_ = 0;
    std::uint64_t epoch_ = 0;
    std::string name_;
    std::uint64_t issued_ms_ = 0;
    std::vector<GroupMember> members_;
    PublicKey mailbox_key_{};
    SecretBytes mailbox_seed_;  // empty in a public copy
    PublicKey signer_key_{};
    Signature signature_{};
};

/// A sender's chain handed to another device (inside a pairwise session): enough to read the
/// chain's messages from `iteration` on, never earlier ones. Holds the chain key. Move-only.
struct SenderKeyDistribution final {
    static constexpr std::size_t encoded_bytes = 109;
    GroupId group_id{};
    std::uint64_t epoch = 0;
    PublicKey signing_key{};  ///< the chain's own Ed25519 key; names the chain
    std::uint32_t iteration = 0;
    SecretBytes chain_key{32};

    [[nodiscard]] SecretBytes encode() const;
    /// Throws Error{malformed}.
    static SenderKeyDistribution decode(ByteView bytes);
};

/// One group message: encrypted with the chain's key for `iteration`, signed by the chain.
struct SenderKeyMessage final {
    static constexpr std::size_t max_ciphertext_bytes = 1 << 20;
    GroupId group_id{};
    std::uint64_t epoch = 0;
    PublicKey signing_key{};
    std::uint32_t iteration = 0;
    Bytes ciphertext;
    Signature signature{};

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}. Does not verify.
    static SenderKeyMessage decode(ByteView bytes);
};

/// One sender-key chain: our own (can encrypt) or a member device's (decrypt only). The chain
/// key ratchets forward at every message. Move-only; not thread-safe.
class SenderChain final {
public:
    static constexpr std::uint32_t max_skip = 1000;          ///< furthest jump ahead
    static constexpr std::size_t max_skipped_keys = 1000;    ///< kept for late messages, oldest dropped

    /// Our new chain for a group epoch: a random chain key, a fresh signing key, iteration 0.
    static SenderChain create(const GroupId& group_id, std::uint64_t epoch);
    /// A member device's chain, from its distribution.
    static SenderChain from_distribution(const SenderKeyDistribution& d);

    /// The distribution of this chain at its current iteration.
    [[nodiscard]] SenderKeyDistribution distribution() const;
    /// Encrypts and signs with the next key. Error{no_session} for a chain that is not ours.
    SenderKeyMessage encrypt(ByteView plaintext);
    /// Verifies and decrypts, or throws leaving the chain unchanged: untrusted_key (another
    /// chain), bad_signature, duplicate_message (key used or no longer kept), too_many_skipped,
    /// decrypt_failed.
    Bytes decrypt(const SenderKeyMessage& message);

    [[nodiscard]] const GroupId& group_id() const { return group_id_; }
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const PublicKey& signing_key() const { return signing_key_; }
    [[nodiscard]] std::uint32_t iteration() const { return iteration_; }
    [[nodiscard]] bool can_send() const { return !signer_.sec.empty(); }
    [[nodiscard]] std::size_t skipped_key_count() const { return skipped_.size(); }

    /// Storage form (guarded) and back (Error{malformed}).
    [[nodiscard]] SecretBytes serialize() const;
    static SenderChain deserialize(ByteView bytes);

private:
    SenderChain() = default;
    [[nodiscard]] Bytes associated_data(std::uint32_t iteration) const;

    GroupId group_id_{};
    std::uint64_t epoch_ = 0;
    PublicKey signing_key_{};
    SigningKeyPair signer_;  // the chain's signing pair; no secret on a chain that is not ours
    SecretBytes chain_key_{32};
    std::uint32_t iteration_ = 0;
    std::vector<std::uint32_t> skipped_;  // iterations of the kept keys, oldest first
    SecretBytes skipped_keys_;            // 32 bytes per entry of skipped_, same order
};

}  // namespace veil::crypto
