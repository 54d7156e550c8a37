#pragma once
/// Manifest diffs: what a node sends a client that holds an older manifest, instead of the whole
/// one. A diff names the version it applies to, carries the new manifest's header (its body with
/// no nodes, so header fields added later travel without a format change), the nodes removed and
/// the nodes added or changed, and the full signature set over the NEW body. The client rebuilds
/// the new body from its own and the diff, and verifies the signatures as for a full manifest
/// (ManifestVerifier); a diff that does not reproduce a validly signed body is refused, and the
/// client fetches the whole manifest. Format in docs/admission.md §Refreshes.
///
///   diff = u8 format (1) | u64 from_version | var(header body) | u32 n | n × key (removed, sorted)
///          | u32 m | m × node entry (added or changed, sorted by key) | u8 s | s × (key, signature)

#include "veil/proto/manifest.hpp"

namespace veil::proto {

struct ManifestDiff {
    std::uint64_t from_version = 0;
    wire::Bytes header;                 ///< encode_manifest_body of the new manifest without nodes
    std::vector<PublicKey> removed;     ///< sorted, unique
    std::vector<NodeEntry> upserted;    ///< sorted by key, unique
    std::vector<std::pair<PublicKey, Signature>> signatures;
    bool operator==(const ManifestDiff&) const = default;
};

/// The diff that turns `from` into `to` (whose signatures it carries).
[[nodiscard]] ManifestDiff make_manifest_diff(const Manifest& from, const SignedManifest& to);
[[nodiscard]] wire::Bytes encode_manifest_diff(const ManifestDiff& d);
/// Parses a diff; throws wire::DecodeError on malformed input (unsorted lists too).
[[nodiscard]] ManifestDiff decode_manifest_diff(wire::ByteView bytes);
/// The signed manifest `diff` makes of `held`, signatures NOT checked (the caller's verifier does).
/// Throws wire::DecodeError when the diff does not apply (another base version, a removed or
/// changed node the held manifest lacks, a result the manifest decoder refuses).
[[nodiscard]] SignedManifest apply_manifest_diff(const SignedManifest& held, const ManifestDiff& diff);

}  // namespace veil::proto
