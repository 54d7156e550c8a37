#pragma once
/// The signed network manifest (who is in the network, where, in which swarm) and the signed
/// node descriptor a node registers with. Formats are in docs/service-node.md §Formats.

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "veil/crypto/keys.hpp"
#include "veil/proto/types.hpp"
#include "veil/sdk/net.hpp"
#include "veil/wire/codec.hpp"

namespace veil::proto {

/// Upper bounds every decoder enforces.
inline constexpr std::size_t kMaxHostBytes = 253;
inline constexpr std::size_t kMaxManifestNodes = 10000;
inline constexpr std::size_t kMaxManifestSignatures = 16;
inline constexpr std::size_t kMaxManifestBodyBytes = 4 << 20;

/// One node as the manifest lists it.
struct NodeEntry {
    PublicKey ed25519{};
    PublicKey x25519{};
    std::string host;
    std::uint16_t port = 0;
    SwarmId swarm = kInvalidSwarm;
    bool operator==(const NodeEntry&) const = default;
};

/// Throws wire::DecodeError unless host is a non-empty name or address of [A-Za-z0-9.:-] and port
/// is not 0 (what a manifest, a vote or a descriptor may list).
void check_node_address(const std::string& host, std::uint16_t port);

/// The node's "host:port" as transports and sdk::net::parse_endpoint take it ("[v6]:port").
inline std::string address_of(const NodeEntry& n) { return sdk::net::Endpoint{n.host, n.port}.to_string(); }

/// The manifest's content. nodes are sorted by ed25519 key, unique. Formed by the directory
/// authorities once per period (docs/directory.md): version is the period's index, so it never
/// goes back, not even across an authority's restart.
struct Manifest {
    std::uint64_t version = 0;
    std::uint64_t issued_ms = 0;       ///< start of the period it was formed for
    std::uint64_t valid_until_ms = 0;  ///< refused (ManifestCheck::expired) after this time
    /// Network parameters (network.toml) that admission applies and every participant can read:
    bool test_network = false;               ///< loopback and private addresses allowed
    std::uint16_t max_nodes_per_block = 0;   ///< nodes admitted per address block (0: no limit)
    std::vector<NodeEntry> nodes;

    /// Sorted unique swarm ids in use.
    [[nodiscard]] std::vector<SwarmId> swarm_ids() const;
    /// Members of one swarm, in key order.
    [[nodiscard]] std::vector<NodeEntry> members(SwarmId swarm) const;
    /// The entry of a node, if listed.
    [[nodiscard]] const NodeEntry* find(const PublicKey& ed25519) const;
    /// The swarm that holds a mailbox (kInvalidSwarm when there is none).
    [[nodiscard]] SwarmId swarm_for(const PublicKey& mailbox) const;
    bool operator==(const Manifest&) const = default;
};

/// A manifest with its authority signatures; `encoded` is the exact envelope (what nodes serve).
struct SignedManifest {
    Manifest manifest;
    wire::Bytes body;  ///< the signed bytes after the domain tag
    std::vector<std::pair<PublicKey, Signature>> signatures;
    [[nodiscard]] wire::Bytes encode() const;
};

/// Canonical body bytes of a manifest.
[[nodiscard]] wire::Bytes encode_manifest_body(const Manifest& m);
/// Parses a body; throws wire::DecodeError on malformed input (unsorted or duplicate nodes too).
[[nodiscard]] Manifest decode_manifest_body(wire::ByteView body);
/// The bytes an authority signs: the domain tag, then the body.
[[nodiscard]] wire::Bytes manifest_signed_bytes(wire::ByteView body);
/// Signs a manifest with one or more authority keys.
[[nodiscard]] SignedManifest sign_manifest(const Manifest& m, std::span<const crypto::SigningKeyPair* const> keys);
/// Parses an envelope (body and signatures), without checking signatures. Throws DecodeError.
[[nodiscard]] SignedManifest decode_signed_manifest(wire::ByteView envelope);

/// Why a manifest was refused.
enum class ManifestCheck : std::uint8_t {
    ok = 1,
    too_few_signatures,  ///< fewer than k valid signatures from distinct configured authorities
    old_version,         ///< lower than the version already accepted
    expired,             ///< now is past valid_until_ms
    from_future,         ///< issued more than kMaxClockSkewMs after the verifier's now
    conflicting_body,    ///< the version already accepted, with another body (authorities equivocated)
};

/// How far ahead of a verifier's clock a manifest may be issued (clocks differ). One issued later
/// is refused: accepting it would make every honest manifest until then an old_version.
inline constexpr std::uint64_t kMaxClockSkewMs = 5 * 60'000;

/// 32-byte BLAKE2b digest of some bytes (a manifest body, a vote envelope): what is compared
/// instead of keeping the bytes.
using Digest = std::array<std::uint8_t, 32>;
[[nodiscard]] Digest digest_of(wire::ByteView bytes);

/// The threshold a network of `authority_count` authorities uses when none is configured: more
/// than half of them.
[[nodiscard]] inline std::size_t majority_of(std::size_t authority_count) { return authority_count / 2 + 1; }

/// The authority keys (hex, 64 digits each) and threshold (0: a majority) of a config table, as
/// clients and nodes read them. Throws std::invalid_argument, the message starting with `table.`
/// and naming the key: no keys, a malformed one, a negative threshold, or one below a majority
/// (one lying authority could sign alone).
struct AuthoritySet {
    std::vector<PublicKey> keys;
    std::size_t threshold = 0;  ///< as configured; 0 means majority_of(keys.size())
};
[[nodiscard]] AuthoritySet read_authority_set(std::string_view table, const std::vector<std::string>& hex_keys,
                                              std::int64_t threshold);

/// True when less than a quarter of the manifest's validity is left at now_ms (time to warn:
/// the authorities have not issued a newer one for a while).
[[nodiscard]] bool manifest_getting_old(const Manifest& m, std::uint64_t now_ms);

/// Accepts only manifests signed by at least `threshold` of the configured authority keys, not
/// expired at the caller's now_ms nor issued more than kMaxClockSkewMs after it, never a lower
/// version than the last accepted one, and never another body for that version.
/// Single-threaded value.
class ManifestVerifier final {
public:
    /// threshold 0 means majority_of(keys); one below a majority (one lying authority could sign
    /// alone) throws std::invalid_argument, as do no keys; one above the key count is clamped to it.
    ManifestVerifier(std::vector<PublicKey> authorities, std::size_t threshold);

    /// Checks without accepting.
    [[nodiscard]] ManifestCheck check(const SignedManifest& m, std::uint64_t now_ms) const;
    /// Checks and, on ok, remembers the version (so lower ones are refused from now on).
    ManifestCheck accept(const SignedManifest& m, std::uint64_t now_ms);
    /// How many of the manifest's signatures are valid ones of distinct configured authorities.
    [[nodiscard]] std::size_t valid_signatures(const SignedManifest& m) const;
    [[nodiscard]] std::size_t threshold() const { return threshold_; }
    [[nodiscard]] std::size_t authority_count() const { return authorities_.size(); }
    [[nodiscard]] std::uint64_t accepted_version() const { return accepted_version_; }

private:
    std::vector<PublicKey> authorities_;
    std::size_t threshold_;
    std::uint64_t accepted_version_ = 0;
    Digest accepted_body_{};  ///< digest of the accepted version's body
};

[[nodiscard]] const char* to_string(ManifestCheck c);

/// What a node registers (and re-sends as its heartbeat), signed by the node's Ed25519 key.
struct NodeDescriptor {
    PublicKey ed25519{};
    PublicKey x25519{};
    std::string host;
    std::uint16_t port = 0;
    std::uint64_t timestamp_ms = 0;
    bool operator==(const NodeDescriptor&) const = default;
};

/// Envelope: body then signature by descriptor.ed25519.
[[nodiscard]] wire::Bytes sign_descriptor(const NodeDescriptor& d, const crypto::SigningKeyPair& key);
/// Parses and verifies an envelope: signature valid, x25519 is the conversion of ed25519, host
/// and port sane. Throws wire::DecodeError with the reason otherwise.
[[nodiscard]] NodeDescriptor decode_verified_descriptor(wire::ByteView envelope);

}  // namespace veil::proto
