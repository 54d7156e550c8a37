#pragma once
/// One directory authority of N: its registry (what it sees), its vote per period, the votes of
/// the others, the consensus it forms and the signatures it gathers on it, and the manifest it
/// serves. Pure logic driven by the caller's clock; the plugin (directory_plugin.cpp) carries the
/// bytes between authorities. Protocol: docs/directory.md. Single-threaded.
///
/// Timeline of period p (starting at p * period_ms):
///   start     the authority fixes its vote (the registry's live nodes and the consensus it builds
///             on) and sends it to the others. Rounds of delta = period / 2 / R (R = threshold):
///             a vote vouched for by k distinct authorities (its author and k-1 relay signatures)
///             is taken until start + min(k, R) x delta; one taken is signed and relayed at once
///             (Dolev-Strong), so whatever one honest authority takes, every honest one takes
///             before the middle: all count the same votes. Two different votes of one authority
///             for p are proof of equivocation: its vote is left out, and both are relayed;
///   middle    it forms the consensus of p from the votes of p it holds (its own included) and the
///             consensus its vote named (`previous`), signs the body only when at least
///             `threshold` counted votes named that same previous (or, when no previous has
///             that many, on the lowest-digest body of a proven split: two threshold-signed
///             bodies of its previous version it holds; otherwise it abstains), and sends the
///             signature;
///             signatures of the others on the same body are added as they arrive;
///   any time  a consensus of >= threshold valid signatures becomes the served manifest and the
///             `previous` of the next period; one fetched from another authority is taken too
///             (an authority that restarted, or missed a vote, catches up this way).

#include <map>
#include <memory>
#include <optional>

#include "consensus.hpp"
#include "registry.hpp"

namespace veil::directory {

/// The slowest link an authority is expected on (2 Mbit/s), in bytes per millisecond: vote sizes
/// and request timeouts are scaled to it.
inline constexpr std::uint64_t kFloorBytesPerMs = 250;

struct AuthorityConfig {
    RegistryConfig registry;
    ConsensusParams consensus;            ///< consensus.authority_count is set from authority_keys
    std::vector<PublicKey> authority_keys;  ///< all N, this one's included
    std::size_t threshold = 0;              ///< signatures a manifest needs; 0: more than half of N
    /// After a start the registry is empty until every node sent a heartbeat: the authority
    /// votes (and forms a consensus) only for periods that start this long after its first tick.
    std::uint64_t warm_up_ms = 0;
    /// The periods this authority voted for (runs first -> last, persisted by the caller): it
    /// never votes twice for one, not after a restart nor when its clock steps back.
    std::map<std::uint64_t, std::uint64_t> voted;
};

/// A vote held, as the authority passes it on (its own or another's, or a proof of equivocation).
struct OutgoingVote {
    std::uint64_t period = 0;
    PublicKey author{};
    Digest digest{};                 ///< digest_of the vote envelope: what offer_vote names
    wire::ByteView relayed;          ///< encoded RelayedVote; valid until the authority changes
    std::vector<PublicKey> holders;  ///< known to hold it: its author and its relay signers
};

/// What became of a vote offered to take_vote.
enum class VoteTaken : std::uint8_t {
    taken,         ///< new: it will be counted and relayed
    known,         ///< held already (or its author's equivocation is proven already)
    equivocation,  ///< a second, different vote of its author for that period: proof, relayed
    refused,       ///< not a configured authority, itself, another period, or past its round's deadline
};
/// What became of a signature offered to take_signature.
enum class SignatureTaken : std::uint8_t {
    taken,      ///< verified over this authority's body and added
    known,      ///< this authority's signature was already added
    not_ready,  ///< this authority has not formed that version yet: send it again later
    refused,    ///< not a configured authority, another version, or it does not verify
};

class Authority final {
public:
    /// Throws std::invalid_argument when key is not among config.authority_keys.
    Authority(const crypto::SigningKeyPair& key, AuthorityConfig config);

    /// Advances the clock: drops silent nodes, fixes the vote of a new period, forms the
    /// consensus at mid-period.
    void tick(std::uint64_t now_ms);

    /// A verified node descriptor (registration or heartbeat).
    RegisterResult register_node(const NodeDescriptor& d, std::uint64_t now_ms) { return registry_.heartbeat(d, now_ms); }
    /// Drops a node from this authority's view now (admission: it failed a re-check, or moved).
    void remove_node(const PublicKey& ed25519) { registry_.remove(ed25519); }
    /// Another authority's vote, from it or relayed by anyone. Throws wire::DecodeError when the
    /// envelope does not verify (relay signatures that do not verify are ignored).
    VoteTaken take_vote(const RelayedVote& relayed, std::uint64_t now_ms);
    /// When a vote vouched for by `vouchers` distinct authorities stops being taken in period p.
    [[nodiscard]] std::uint64_t vote_deadline_ms(std::uint64_t p, std::size_t vouchers) const;
    /// The largest vote envelope taken: what one round (delta) carries at the floor rate to each
    /// of the N-1 others. A larger one, relayed in front of a small one (an equivocation proof),
    /// could hold it past the round's deadline at one authority and not at another.
    [[nodiscard]] std::size_t max_vote_bytes() const;
    /// Another authority's signature on this period's consensus. Taken only when it verifies over
    /// the body this authority formed; a valid one is never replaced.
    SignatureTaken take_signature(const ConsensusSignature& s, std::uint64_t now_ms);
    /// A manifest another authority serves (or the one saved before a restart). Taken as served
    /// and previous when it has enough valid signatures, is not expired, and is newer; another
    /// valid body of the served version is kept as proof of a split (and false returned).
    bool take_manifest(const SignedManifest& m, std::uint64_t now_ms);

    /// This period's vote envelope (empty before the first tick).
    [[nodiscard]] const wire::Bytes& vote_envelope() const { return vote_envelope_; }
    /// Every vote held for this period and the next (encoded RelayedVote, with this authority's
    /// relay signature on the others'), its own and the proofs of equivocation included: what
    /// it relays to the others.
    [[nodiscard]] std::vector<OutgoingVote> votes_to_relay() const;
    /// Whether it holds the vote envelope of this digest (offer_vote).
    [[nodiscard]] bool holds(const Digest& envelope_digest) const;
    /// Ed25519 verifications take_vote made so far (votes and relay signatures): a vote it holds
    /// costs none again, and a relayed vote at most one per configured authority.
    [[nodiscard]] std::uint64_t signature_checks() const { return signature_checks_; }
    /// The votes this period's consensus counts (or will count): one per authority, none of an
    /// authority caught equivocating.
    [[nodiscard]] std::vector<Vote> counted_votes() const;
    /// The authorities caught equivocating this period.
    [[nodiscard]] std::vector<PublicKey> equivocators() const;
    [[nodiscard]] const ConsensusParams& consensus_params() const { return config_.consensus; }
    /// This authority's signature on the consensus it formed, once it formed one this period.
    [[nodiscard]] std::optional<ConsensusSignature> own_signature() const { return own_signature_; }
    /// The manifest to serve: the newest with enough signatures, with every signature gathered.
    /// Empty when there is none yet.
    [[nodiscard]] const wire::Bytes& served() const { return served_; }
    [[nodiscard]] std::uint64_t served_version() const { return served_manifest_ ? served_manifest_->version : 0; }
    /// The consensus formed this period with the signatures gathered on it so far (for tests and
    /// the hostile test authority).
    [[nodiscard]] const std::optional<SignedManifest>& candidate() const { return candidate_; }
    [[nodiscard]] std::size_t threshold() const { return verifier_.threshold(); }
    [[nodiscard]] std::uint64_t period() const { return period_; }
    /// The runs of periods voted for (the newest kVotedRuns), to persist.
    [[nodiscard]] const std::map<std::uint64_t, std::uint64_t>& voted() const { return voted_; }
    static constexpr std::size_t kVotedRuns = 16;
    [[nodiscard]] const Registry& registry() const { return registry_; }

private:
    bool configured(const PublicKey& k) const;
    std::uint64_t rounds() const;  // R: rounds of vote delivery before the middle
    void form(std::uint64_t now_ms);
    void serve_if_enough(std::uint64_t now_ms);
    void serve(const SignedManifest& m);
    void start_period(std::uint64_t p);
    /// Keeps a threshold-signed manifest (served or fetched) as proof for split_base.
    void remember(const SignedManifest& m);
    /// The body of lowest digest among two or more threshold-signed ones of `version` it holds
    /// (a proven split), or null.
    [[nodiscard]] const Manifest* split_base(std::uint64_t version) const;
    /// The previous consensus threshold counted votes named, if one did.
    [[nodiscard]] std::optional<std::pair<std::uint64_t, Digest>> agreed_previous() const;
    bool voted_for(std::uint64_t p) const;
    void record_vote(std::uint64_t p);
    RelayedVote vouched(const RelayedVote& received, const PublicKey& author);

    /// A vote held, and the second vote that proves its author equivocated (empty if none):
    /// both as relayed on (encoded RelayedVote).
    struct HeldVote {
        Vote vote;
        wire::Bytes relayed;
        wire::Bytes proof;
        Digest digest{};        ///< of the vote envelope
        Digest proof_digest{};  ///< of the proof's envelope
        std::vector<PublicKey> holders, proof_holders;
    };

    const crypto::SigningKeyPair& key_;
    AuthorityConfig config_;
    Registry registry_;
    ManifestVerifier verifier_;
    std::uint64_t period_ = 0;
    std::optional<std::uint64_t> started_ms_;
    bool formed_ = false;
    std::map<std::pair<std::uint64_t, PublicKey>, HeldVote> votes_;  ///< (period, authority)
    wire::Bytes vote_envelope_;
    std::optional<SignedManifest> candidate_;
    std::optional<ConsensusSignature> own_signature_;
    std::optional<Manifest> served_manifest_;  ///< also the `previous` of the next vote
    Digest served_digest_{};                   ///< digest_of its body
    std::optional<Manifest> base_;             ///< the previous this period's vote named
    std::map<std::uint64_t, std::uint64_t> voted_;
    /// Threshold-signed manifests seen, by (version, body digest): the newest kProvenKept.
    std::map<std::pair<std::uint64_t, Digest>, Manifest> proven_;
    static constexpr std::size_t kProvenKept = 8;
    wire::Bytes served_;
    std::uint64_t signature_checks_ = 0;
};

}  // namespace veil::directory
