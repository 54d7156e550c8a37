#pragma once
/// Who may write and read each namespace of a mailbox (docs/service-node.md §Who may write each
/// namespace). A stranger may only drop sealed envelopes into the envelope namespace; every other
/// namespace, the public-read ones included, takes owner-signed stores only, so nobody but the
/// owner can fill (or crowd out) a device list or a pre-key bundle. Quotas count per
/// (mailbox, namespace), so junk in one namespace never blocks another.

#include <cstdint>

namespace veil::proto::node {

/// Sealed envelopes for a device (owner-only read): the one namespace strangers may write.
inline constexpr std::uint16_t kEnvelopeNamespace = 0;
/// Namespaces from here up are public-read: retrieve and subscribe need no owner signature.
inline constexpr std::uint16_t kFirstPublicNamespace = 0x8000;
/// An identity's signed device list (public read, owner write).
inline constexpr std::uint16_t kDeviceListNamespace = 0x8001;
/// An identity's devices' pre-key bundles (public read, owner write).
inline constexpr std::uint16_t kBundleNamespace = 0x8002;

[[nodiscard]] constexpr bool is_public_namespace(std::uint16_t ns) { return ns >= kFirstPublicNamespace; }

/// True when a store into ns must carry the mailbox owner's signature: every namespace but the
/// envelope namespace (unknown ones included).
[[nodiscard]] constexpr bool store_needs_owner(std::uint16_t ns) { return ns != kEnvelopeNamespace; }

}  // namespace veil::proto::node
