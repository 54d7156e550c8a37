#pragma once
/// What an identity publishes in its swarm (public-read namespaces) and how a reader picks the
/// trustworthy newest copy out of whatever the swarm returns. Only the identity may store there
/// (owner-signed stores), but every blob is still checked: only what verifies against the
/// expected Veil ID counts.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "veil/proto/node_rpc.hpp"
#include "veil/crypto/prekey.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

/// Device mailbox namespace of sealed envelopes (owner-only read, anyone writes).
inline constexpr std::uint16_t kInboxNamespace = proto::node::kEnvelopeNamespace;
/// Identity mailbox namespaces (public read, owner-signed writes; veil/proto/namespaces.hpp):
/// the signed device list and the devices' pre-key bundles.
using proto::node::kBundleNamespace;
using proto::node::kDeviceListNamespace;
/// TTL of what is published, and of envelopes (the node's maximum).
inline constexpr std::uint64_t kPublishTtlMs = 14ULL * 24 * 3600 * 1000;
/// Shortest swarm TTL of a disappearing message: an online recipient still fetches it.
inline constexpr std::uint64_t kMinDisappearingTtlMs = 60'000;
/// The swarm TTL of a message under a disappearing timer (0 = off: the longest TTL).
[[nodiscard]] inline std::uint64_t swarm_ttl_ms(std::uint32_t disappear_after_s) {
    if (disappear_after_s == 0) return kPublishTtlMs;
    auto ms = std::uint64_t{disappear_after_s} * 1000;
    return ms < kMinDisappearingTtlMs ? kMinDisappearingTtlMs : ms > kPublishTtlMs ? kPublishTtlMs : ms;
}
/// Published state is stored again once older than this.
inline constexpr std::uint64_t kRepublishAfterMs = 7ULL * 24 * 3600 * 1000;
/// How often the resident daemon checks whether its published state is due again: changed,
/// old, or a publish that too few members took (Service::publish, unsettled) goes out again.
inline constexpr std::uint64_t kRepublishCheckMs = 30ULL * 1000;

/// Every device list among blobs that verifies against id and is not from the future at now_ms,
/// lowest version first (forks of one version in the order found). A reader keeps the revoked
/// marks of each (PeerLists), a publisher joins each (Account::adopt_device_list).
[[nodiscard]] std::vector<crypto::DeviceList> valid_device_lists(const crypto::VeilId& id,
                                                                 const std::vector<wire::Bytes>& blobs,
                                                                 std::uint64_t now_ms);

/// The first list of the highest version in `lists` (as valid_device_lists orders them; not
/// empty): a fork of that version found later does not replace it.
[[nodiscard]] crypto::DeviceList newest_of(std::vector<crypto::DeviceList> lists);

/// The highest-version device list among blobs that verifies against id and whose version is
/// not from the future at now_ms (DeviceList::from_future: such a list would otherwise hide every
/// later one); nullopt if none.
[[nodiscard]] std::optional<crypto::DeviceList> newest_device_list(const crypto::VeilId& id,
                                                                   const std::vector<wire::Bytes>& blobs,
                                                                   std::uint64_t now_ms);

/// When no list among blobs is usable but one that verifies against id was skipped as from the
/// future at now_ms: the clock error to report ("signed N h ahead of this clock"). Such a read
/// is no proof that the identity has no list (a restore must not start a new chain, a sender
/// must not hear "no device list"): the reader's clock is likely behind. nullopt otherwise.
[[nodiscard]] std::optional<std::string> device_list_clock_error(const crypto::VeilId& id,
                                                                 const std::vector<wire::Bytes>& blobs,
                                                                 std::uint64_t now_ms);

/// For each active device of list, the newest bundle (highest signed pre-key id, later blob on a
/// tie) that verifies against id and list at now_ms. Keyed by the device's signing key.
[[nodiscard]] std::map<crypto::PublicKey, crypto::PreKeyBundle> newest_bundles(
    const crypto::VeilId& id, const crypto::DeviceList& list, const std::vector<wire::Bytes>& blobs,
    std::uint64_t now_ms);

/// What a device deletes from its identity's device-list namespace after publishing `current`:
/// older lists whose every revocation `current` also carries, and anything that does not verify
/// against id. An older list revoking a device `current` names active stays (a fork's mark).
[[nodiscard]] std::vector<proto::node::Hash> superseded_lists(const crypto::VeilId& id, const crypto::DeviceList& current,
                                                       const std::vector<proto::node::MessageItem>& items);

/// What a device deletes from the bundle namespace after publishing `current`: its own earlier
/// bundles, and anything that does not verify against id at now_ms. Other devices' valid
/// bundles stay.
[[nodiscard]] std::vector<proto::node::Hash> superseded_bundles(const crypto::VeilId& id, const crypto::PublicKey& device,
                                                         const wire::Bytes& current,
                                                         const std::vector<proto::node::MessageItem>& items,
                                                         std::uint64_t now_ms);

}  // namespace veil::messenger
