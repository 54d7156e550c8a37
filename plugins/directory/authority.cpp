#include "authority.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <stdexcept>

namespace veil::directory {

Authority::Authority(const crypto::SigningKeyPair& key, AuthorityConfig config)
    : key_(key),
      config_(std::move(config)),
      registry_(config_.registry),
      verifier_(config_.authority_keys, config_.threshold),
      voted_(config_.voted) {
    std::sort(config_.authority_keys.begin(), config_.authority_keys.end());
    config_.authority_keys.erase(std::unique(config_.authority_keys.begin(), config_.authority_keys.end()),
                                 config_.authority_keys.end());
    if (!configured(key_.pub)) throw std::invalid_argument("directory: this authority's key is not in authority_keys");
    config_.consensus.authority_count = config_.authority_keys.size();
}

bool Authority::configured(const PublicKey& k) const {
    return std::binary_search(config_.authority_keys.begin(), config_.authority_keys.end(), k);
}

void Authority::tick(std::uint64_t now_ms) {
    registry_.tick(now_ms);
    if (!started_ms_) started_ms_ = now_ms;
    std::uint64_t p = period_of(now_ms, config_.consensus.period_ms);
    if (p < period_ && served_manifest_ && served_manifest_->issued_ms > now_ms + kMaxClockSkewMs) {
        // The clock ran ahead and came back: a manifest from its future would block every
        // consensus until then ("never back"), and nobody else accepts it anyway.
        served_manifest_.reset();
        served_.clear();
    }
    if (p != period_) start_period(p);
    if (!formed_ && now_ms >= period_start_ms(p, config_.consensus.period_ms) + config_.consensus.period_ms / 2) form(now_ms);
}

void Authority::start_period(std::uint64_t p) {
    period_ = p;
    // Still warming up: a vote now would leave out the nodes that have not beaten yet. Voted
    // already (before a restart, or before the clock stepped back): a second vote would be
    // taken for equivocation.
    formed_ = period_start_ms(p, config_.consensus.period_ms) < *started_ms_ + config_.warm_up_ms || voted_for(p);
    candidate_.reset();
    own_signature_.reset();
    std::erase_if(votes_, [p](const auto& kv) { return kv.first.first < p || kv.first.first > p + 1; });
    vote_envelope_.clear();
    if (formed_) return;
    base_ = served_manifest_;
    Vote mine{p, key_.pub, registry_.view(), served_manifest_ ? served_manifest_->version : 0,
              served_manifest_ ? served_digest_ : Digest{}};
    vote_envelope_ = sign_vote(mine, key_);
    record_vote(p);
    votes_[{p, key_.pub}] = HeldVote{std::move(mine), encode_relayed_vote({vote_envelope_, {}}), {}, digest_of(vote_envelope_), {}, {key_.pub}, {}};
}

bool Authority::voted_for(std::uint64_t p) const {
    auto run = voted_.upper_bound(p);
    return run != voted_.begin() && std::prev(run)->second >= p;
}

void Authority::record_vote(std::uint64_t p) {
    auto run = voted_.upper_bound(p);
    if (run != voted_.begin() && std::prev(run)->second + 1 == p) std::prev(run)->second = p;
    else voted_[p] = p;
    // Runs start when the clock jumps; keep the newest few (a jump back further is not a risk
    // the authority can remember without bound).
    while (voted_.size() > kVotedRuns) voted_.erase(voted_.begin());
}

std::uint64_t Authority::rounds() const {
    // R rounds fit before the middle; R = threshold covers up to threshold - 1 liars, the most
    // that cannot sign a manifest alone (Dolev-Strong needs f + 1 rounds for f).
    return std::max<std::size_t>(1, std::min(threshold(), config_.authority_keys.size()));
}

std::uint64_t Authority::vote_deadline_ms(std::uint64_t p, std::size_t vouchers) const {
    std::uint64_t delta = config_.consensus.period_ms / 2 / rounds();
    return period_start_ms(p, config_.consensus.period_ms) + std::min<std::uint64_t>(vouchers, rounds()) * delta;
}

std::size_t Authority::max_vote_bytes() const {
    std::uint64_t delta = config_.consensus.period_ms / 2 / rounds();
    std::uint64_t others = std::max<std::size_t>(1, config_.authority_keys.size() - 1);
    return static_cast<std::size_t>(delta * kFloorBytesPerMs / others);
}

// The relay signatures worth passing on: valid ones of distinct configured authorities other
// than the author and this one. Each authority's is checked once, valid or not: a relayed vote
// costs at most one verification per configured authority, however many signatures it carries.
RelayedVote Authority::vouched(const RelayedVote& received, const PublicKey& author) {
    RelayedVote out{received.envelope, {}};
    std::set<PublicKey> seen{author, key_.pub};
    for (const auto& [k, sig] : received.relays) {
        if (!configured(k) || !seen.insert(k).second || out.relays.size() + 1 >= kMaxVoteRelays) continue;
        ++signature_checks_;
        if (relay_signature_valid(received.envelope, k, sig)) out.relays.emplace_back(k, sig);
    }
    return out;
}

VoteTaken Authority::take_vote(const RelayedVote& relayed, std::uint64_t now_ms) {
    // Refused or recognised before any signature check: a flood of copies, of votes of other
    // periods, or of a proven equivocator's further votes costs a hash at most.
    auto header = peek_vote(relayed.envelope);
    if (!configured(header.authority) || header.authority == key_.pub) return VoteTaken::refused;
    if (header.period < period_ || header.period > period_ + 1) return VoteTaken::refused;  // only now or the next (clock skew)
    if (header.period == period_ && formed_) return VoteTaken::refused;                    // this period is decided
    if (relayed.envelope.size() > max_vote_bytes()) return VoteTaken::refused;             // could not cross in a round
    auto held = votes_.find({header.period, header.authority});
    if (held != votes_.end() && !held->second.proof.empty()) return VoteTaken::known;  // proven: nothing more to learn
    auto digest = digest_of(relayed.envelope);
    if (held != votes_.end() && held->second.digest == digest) return VoteTaken::known;
    ++signature_checks_;
    auto v = decode_verified_vote(relayed.envelope);
    // A vote taken late could reach some authorities before their consensus and others after.
    // Each authority that takes one vouches for it and passes it on at once, and each voucher
    // buys one more round: whatever an honest authority takes in time, the others take in time.
    auto pass_on = vouched(relayed, v.authority);
    if (now_ms > vote_deadline_ms(v.period, 1 + pass_on.relays.size())) return VoteTaken::refused;
    pass_on.relays.emplace_back(key_.pub, sign_relay(pass_on.envelope, key_));
    std::vector<PublicKey> holders{v.authority};
    for (const auto& r : pass_on.relays) holders.push_back(r.first);
    auto mine = encode_relayed_vote(pass_on);
    if (held != votes_.end()) {
        held->second.proof = std::move(mine);  // one authority, two votes
        held->second.proof_digest = digest;
        held->second.proof_holders = std::move(holders);
        return VoteTaken::equivocation;
    }
    votes_[{v.period, v.authority}] = HeldVote{std::move(v), std::move(mine), {}, digest, {}, std::move(holders), {}};
    return VoteTaken::taken;
}

std::vector<OutgoingVote> Authority::votes_to_relay() const {
    std::vector<OutgoingVote> out;
    for (const auto& [at, h] : votes_) {
        out.push_back({at.first, at.second, h.digest, h.relayed, h.holders});
        if (!h.proof.empty()) out.push_back({at.first, at.second, h.proof_digest, h.proof, h.proof_holders});
    }
    return out;
}

bool Authority::holds(const Digest& envelope_digest) const {
    for (const auto& [at, h] : votes_)
        if (h.digest == envelope_digest || (!h.proof.empty() && h.proof_digest == envelope_digest)) return true;
    return false;
}

std::vector<Vote> Authority::counted_votes() const {
    std::vector<Vote> out;
    for (const auto& [at, h] : votes_)
        if (at.first == period_ && h.proof.empty()) out.push_back(h.vote);
    return out;
}

std::vector<PublicKey> Authority::equivocators() const {
    std::vector<PublicKey> out;
    for (const auto& [at, h] : votes_)
        if (at.first == period_ && !h.proof.empty()) out.push_back(at.second);
    return out;
}

// Honest authorities count the same votes, but one whose previous consensus differs computes
// another body. The previous that threshold counted votes named is the one to build on (a
// majority threshold lets at most one reach that); an authority whose own differs abstains. When
// none reaches it, it builds only on a proven split: two threshold-signed bodies of its previous
// version that it holds (a liar cannot forge one). Every honest authority that holds both picks
// the one of lowest digest, so a split heals in one period without reassigning swarms from
// nothing; a liar naming junk while an honest authority is down proves nothing: it abstains.
std::optional<std::pair<std::uint64_t, Digest>> Authority::agreed_previous() const {
    std::map<std::pair<std::uint64_t, Digest>, std::size_t> named;
    for (const auto& v : counted_votes())
        if (++named[{v.previous_version, v.previous}] >= threshold()) return std::pair{v.previous_version, v.previous};
    return std::nullopt;
}

void Authority::form(std::uint64_t now_ms) {
    formed_ = true;
    const auto& own = votes_.at({period_, key_.pub}).vote;
    auto agreed = agreed_previous();
    if (agreed && *agreed != std::pair{own.previous_version, own.previous}) return;  // it catches up by fetching
    const Manifest* base = agreed && base_ ? &*base_ : nullptr;
    if (!agreed) {
        if (counted_votes().size() < threshold()) return;  // too few votes to list anyone anyway
        base = split_base(own.previous_version);
        if (!base) return;  // no proven split: a disagreement a liar could have made up
    }
    auto m = form_consensus(counted_votes(), period_, base, config_.consensus);
    if (served_manifest_ && m.version <= served_manifest_->version) return;  // never back
    std::vector<const crypto::SigningKeyPair*> signers{&key_};
    candidate_ = sign_manifest(m, signers);
    own_signature_ = ConsensusSignature{m.version, key_.pub, candidate_->signatures.front().second};
    serve_if_enough(now_ms);
}

SignatureTaken Authority::take_signature(const ConsensusSignature& s, std::uint64_t now_ms) {
    if (!configured(s.authority) || s.authority == key_.pub) return SignatureTaken::refused;
    if (!candidate_) return s.version == period_ && !formed_ ? SignatureTaken::not_ready : SignatureTaken::refused;
    if (s.version != candidate_->manifest.version) return SignatureTaken::refused;
    for (const auto& [k, sig] : candidate_->signatures)
        if (k == s.authority) return SignatureTaken::known;  // verified when added: never replaced
    // A signature on another body (the other authority saw other votes) does not verify here.
    if (!crypto::verify_signature(s.authority, manifest_signed_bytes(candidate_->body), s.signature))
        return SignatureTaken::refused;
    candidate_->signatures.emplace_back(s.authority, s.signature);
    serve_if_enough(now_ms);
    return SignatureTaken::taken;
}

void Authority::serve_if_enough(std::uint64_t now_ms) {
    if (!candidate_ || verifier_.check(*candidate_, now_ms) != ManifestCheck::ok) return;
    if (served_manifest_ && candidate_->manifest.version < served_manifest_->version) return;
    // More signatures on the body it serves are welcome; another body of that version never.
    if (served_manifest_ && candidate_->manifest.version == served_manifest_->version &&
        digest_of(candidate_->body) != served_digest_)
        return;
    serve(*candidate_);
}

void Authority::serve(const SignedManifest& m) {
    served_manifest_ = m.manifest;
    served_digest_ = digest_of(m.body);
    served_ = m.encode();
    remember(m);
}

bool Authority::take_manifest(const SignedManifest& m, std::uint64_t now_ms) {
    if (served_manifest_ && m.manifest.version < served_manifest_->version) return false;
    if (proven_.contains({m.manifest.version, digest_of(m.body)})) return false;
    if (verifier_.check(m, now_ms) != ManifestCheck::ok) return false;
    remember(m);
    // Another body of the version it serves is kept as proof of a split, never served.
    if (served_manifest_ && m.manifest.version <= served_manifest_->version) return false;
    serve(m);
    return true;
}

void Authority::remember(const SignedManifest& m) {
    proven_.emplace(std::pair{m.manifest.version, digest_of(m.body)}, m.manifest);
    while (proven_.size() > kProvenKept) proven_.erase(proven_.begin());
}

const Manifest* Authority::split_base(std::uint64_t version) const {
    auto first = proven_.lower_bound({version, Digest{}});
    if (first == proven_.end() || first->first.first != version) return nullptr;
    auto second = std::next(first);
    if (second == proven_.end() || second->first.first != version) return nullptr;
    return &first->second;  // the lowest digest: every authority holding the proof picks it
}

}  // namespace veil::directory
