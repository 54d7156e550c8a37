#pragma once
/// One device's messenger state and the protocol steps that use it, without the kernel: the
/// identity and device keys, the device list, pre-keys, ratchet sessions; what to store in the
/// storage contract; the node RPC bodies to publish, send and receive; opening received
/// envelopes. Not thread-safe (loop thread). Protocol: docs/messenger.md.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat_message.hpp"
#include "peer_lists.hpp"
#include "stranger_sessions.hpp"
#include "published.hpp"
#include "record.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/crypto/envelope.hpp"
#include "veil/crypto/session_manager.hpp"
#include "veil/sdk/storage.hpp"

namespace veil::messenger {

/// Key prefix of the account state (one scan loads it).
inline constexpr std::string_view kStatePrefix = "state/";

class Account final {
public:
    /// A new device of identity. `existing` is the identity's current device list when restoring
    /// (the new device is appended), nullopt for a new identity.
    static Account create(crypto::Identity identity, const std::optional<crypto::DeviceList>& existing,
                          std::uint64_t now_ms);
    /// From the entries of a scan of kStorageNs / kStatePrefix. Throws std::runtime_error when
    /// the state is missing or damaged.
    static Account load(const std::vector<sdk::storage::Entry>& entries);
    /// The puts that store the whole state (apply as one batch).
    [[nodiscard]] std::vector<sdk::storage::BatchOp> save_ops() const;

    Account(Account&&) noexcept = default;
    Account& operator=(Account&&) noexcept = default;
    ~Account();

    [[nodiscard]] const crypto::VeilId& id() const { return identity_.veil_id(); }
    [[nodiscard]] const crypto::Identity& identity() const { return identity_; }
    [[nodiscard]] const crypto::DeviceKeys& device() const { return *device_; }
    [[nodiscard]] const crypto::DeviceList& device_list() const { return list_; }
    /// This device's certificate, signed by the identity key (the sealed sender of its envelopes).
    [[nodiscard]] const crypto::DeviceCertificate& certificate() const { return certificate_; }
    /// The mailbox of this device (its Ed25519 key).
    [[nodiscard]] const proto::node::PublicKey& inbox() const { return device_->signing_key(); }

    /// Owner-signed stores (identity key) for the identity mailbox: the device list and this
    /// device's bundle. Rotates the signed pre-key when due and tops up one-time keys first
    /// (save afterwards).
    [[nodiscard]] std::vector<proto::node::StoreRequest> publish_requests(std::uint64_t now_ms);
    /// True when the published state is older than kRepublishAfterMs or changed since.
    [[nodiscard]] bool needs_publish(std::uint64_t now_ms) const;
    void mark_published(std::uint64_t now_ms);

    /// Adopts a newer own device list read from the swarm (ignored unless it verifies, is newer
    /// and still lists this device).
    void adopt_device_list(const crypto::DeviceList& list);

    /// Peers' device lists as last read (saved with the account): a send uses the newest known,
    /// and open() refuses a device that one marks revoked.
    [[nodiscard]] PeerLists& peer_lists() { return peers_; }
    [[nodiscard]] const PeerLists& peer_lists() const { return peers_; }
    /// Saved peer lists that load() found damaged and skipped (the account loads without them).
    [[nodiscard]] std::size_t skipped_peer_lists() const { return skipped_peer_lists_; }

    /// Marks another device of this identity revoked in a new signed device list (publish and
    /// save afterwards). Throws std::runtime_error for this device or an unknown one.
    void revoke_device(const crypto::PublicKey& device_signing_key, std::uint64_t now_ms);

    /// Unsigned public read of a peer's namespace (device lists, bundles).
    [[nodiscard]] static proto::node::RetrieveRequest public_fetch(const crypto::VeilId& peer, std::uint16_t ns);

    /// One message fanned out: a sealed envelope per active device of `to` (by their_list, or
    /// the newer list held for them in peer_lists(): a rollback is ignored) and per other active
    /// device of ours, at most crypto::SessionManager::max_devices_per_peer (16) devices of each. Starts sessions from bundles where none exists. Throws std::runtime_error
    /// when `to` has no device that can be reached.
    struct Outgoing final {
        MessageRecord record;
        std::vector<proto::node::StoreRequest> stores;
    };
    /// Where their_list comes from: just read from the swarm (it marks the held list checked),
    /// or the held list itself, reused while fresh (it marks nothing: its age stays honest).
    enum class ListSource { read, held };
    /// `is_accepted` names the contacts whose lists are never evicted (keep_lists).
    [[nodiscard]] Outgoing prepare_send(const crypto::VeilId& to, const crypto::DeviceList& their_list,
                                        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& their_bundles,
                                        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& own_bundles,
                                        ChatMessage message, std::uint64_t now_ms,
                                        std::uint64_t ttl_ms = crypto::max_envelope_ttl_ms,
                                        ListSource source = ListSource::read,
                                        const StrangerSessions::IsAccepted& is_accepted = {});
    /// The peers whose held lists are never evicted for strangers' (PeerLists::Keep): accepted
    /// contacts (`is_accepted`), even with no session yet, and peers we hold sessions with.
    [[nodiscard]] PeerLists::Keep keep_lists(StrangerSessions::IsAccepted is_accepted) const;
    /// True when a send to `person` by `list` would start a session (an active device without
    /// one, below the device cap): only then does it need their pre-key bundles.
    [[nodiscard]] bool needs_bundles(const crypto::VeilId& person, const crypto::DeviceList& list) const;

    /// A message for this identity's other devices only (e.g. a contact change): one envelope per
    /// other active device of ours; none when there is no other. The message must name its
    /// sync_peer.
    [[nodiscard]] std::vector<proto::node::StoreRequest> prepare_sync(
        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& own_bundles, const ChatMessage& message,
        std::uint64_t now_ms);
    /// True when this identity has another active device (something to keep in sync).
    [[nodiscard]] bool has_other_devices() const;

    /// Owner-signed page request of this device's inbox.
    [[nodiscard]] proto::node::RetrieveRequest inbox_request(std::optional<proto::node::Hash> after, std::uint64_t now_ms) const;
    /// Owner-signed long-poll of this device's inbox: answered when a message after `after` (a
    /// cursor of the node asked; none: from the start) arrives, or after wait_ms.
    [[nodiscard]] proto::node::SubscribeRequest subscribe_request(std::uint32_t wait_ms, std::uint64_t now_ms,
                                                                  std::optional<proto::node::Hash> after = std::nullopt) const;
    /// Deletion from the identity mailbox (namespace ns), signed by the identity key: superseded
    /// device lists and bundles.
    [[nodiscard]] proto::node::DeleteRequest identity_delete_request(std::uint16_t ns, std::vector<proto::node::Hash> hashes,
                                                              std::uint64_t now_ms) const;
    /// Owner-signed deletion of processed inbox messages.
    [[nodiscard]] proto::node::DeleteRequest delete_request(std::vector<proto::node::Hash> hashes, std::uint64_t now_ms) const;

    /// Opens one stored envelope. nullopt for a message already seen (a duplicate copy) or whose
    /// sealed sender `is_blocked` names: that is decided before any session is made or advanced,
    /// so a blocked sender costs no state. A peer device that the list held for its owner marks
    /// revoked is refused (crypto::Error{revoked}), before the ratchet too. Throws crypto::Error or wire::DecodeError for
    /// something that cannot be read (drop it). `sender_device`, when given, receives the signing
    /// key of the device that wrote it.
    /// `is_accepted` names the peers whose sessions are never dropped for the strangers' cap
    /// (StrangerSessions; without it every peer counts as a stranger).
    [[nodiscard]] std::optional<MessageRecord> open(wire::ByteView envelope, std::uint64_t now_ms,
                                                    crypto::PublicKey* sender_device = nullptr,
                                                    const std::function<bool(const crypto::VeilId&)>& is_blocked = {},
                                                    const StrangerSessions::IsAccepted& is_accepted = {});
    /// Ratchet sessions held with every device of every peer (bounded by the crypto caps).
    [[nodiscard]] std::size_t session_count() const { return sessions_->session_count(); }
    /// Sessions held with every device of one peer.
    [[nodiscard]] std::size_t session_count(const crypto::VeilId& peer) const { return sessions_->cost(peer).sessions; }

private:
    Account(crypto::Identity identity, std::unique_ptr<crypto::DeviceKeys> device);
    void remember(const MessageId& id);
    void load_peer_lists(wire::ByteView bytes);
    [[nodiscard]] bool seen(const MessageId& id) const;
    /// Seals plaintext for every active device of `list` but this one (starting sessions from
    /// bundles where needed); how many were reached.
    std::size_t fan_out(const crypto::VeilId& person, const crypto::DeviceList& list,
                        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& bundles, wire::ByteView plaintext,
                        std::uint64_t now_ms, std::uint64_t ttl_ms, std::vector<proto::node::StoreRequest>& out);
    [[nodiscard]] proto::node::StoreRequest sealed_to(const crypto::VeilId& peer, const crypto::PublicKey& device_key,
                                               const crypto::DeviceList::Entry& entry, wire::ByteView plaintext,
                                               std::uint64_t ttl_ms);

    crypto::Identity identity_;
    std::unique_ptr<crypto::DeviceKeys> device_;
    std::unique_ptr<crypto::PreKeyStore> prekeys_;
    std::unique_ptr<crypto::SessionManager> sessions_;  // refers to *device_ and *prekeys_
    crypto::DeviceCertificate certificate_;
    crypto::DeviceList list_;
    PeerLists peers_;
    std::size_t skipped_peer_lists_ = 0;
    StrangerSessions strangers_;
    std::uint64_t signed_rotated_ms_ = 0;
    std::uint64_t published_ms_ = 0;
    bool dirty_ = true;  // published state changed since the last publish
    std::deque<MessageId> seen_;
};

}  // namespace veil::messenger
