#include "authority.hpp"

#include <algorithm>
#include <stdexcept>

namespace veil::directory {

Authority::Authority(const crypto::SigningKeyPair& key, AuthorityConfig config)
    : key_(key),
      config_(std::move(config)),
      registry_(config_.registry),
      verifier_(config_.authority_keys, config_.threshold) {
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
    // Still warming up: a vote now would leave out the nodes that have not beaten yet.
    formed_ = period_start_ms(p, config_.consensus.period_ms) < *started_ms_ + config_.warm_up_ms;
    candidate_.reset();
    own_signature_.reset();
    std::erase_if(votes_, [p](const auto& kv) { return kv.first.first < p || kv.first.first > p + 1; });
    vote_envelope_.clear();
    if (formed_) return;
    Vote mine{p, key_.pub, registry_.view()};
    vote_envelope_ = sign_vote(mine, key_);
    votes_[{p, key_.pub}] = HeldVote{std::move(mine), vote_envelope_, {}};
}

VoteTaken Authority::take_vote(wire::ByteView envelope, std::uint64_t now_ms) {
    auto v = decode_verified_vote(envelope);
    if (!configured(v.authority) || v.authority == key_.pub) return VoteTaken::refused;
    if (v.period < period_ || v.period > period_ + 1) return VoteTaken::refused;  // only now or the next (clock skew)
    if (v.period == period_ && formed_) return VoteTaken::refused;              // this period is decided
    auto held = votes_.find({v.period, v.authority});
    if (held != votes_.end()) {
        if (held->second.vote == v || !held->second.proof.empty()) return VoteTaken::known;
        held->second.proof.assign(envelope.begin(), envelope.end());  // one authority, two votes
        return VoteTaken::equivocation;
    }
    // A first vote late in the period could reach some authorities before their consensus and
    // others after: refused, so all count the same votes (a second vote is still proof, above).
    if (v.period == period_ && now_ms > period_start_ms(v.period, config_.consensus.period_ms) + config_.consensus.period_ms / 4)
        return VoteTaken::refused;
    votes_[{v.period, v.authority}] = HeldVote{std::move(v), wire::Bytes(envelope.begin(), envelope.end()), {}};
    return VoteTaken::taken;
}

std::vector<wire::ByteView> Authority::votes_to_relay() const {
    std::vector<wire::ByteView> out;
    for (const auto& [at, h] : votes_) {
        out.emplace_back(h.envelope);
        if (!h.proof.empty()) out.emplace_back(h.proof);
    }
    return out;
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

void Authority::form(std::uint64_t now_ms) {
    formed_ = true;
    auto m = form_consensus(counted_votes(), period_, served_manifest_ ? &*served_manifest_ : nullptr, config_.consensus);
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
    served_manifest_ = candidate_->manifest;
    served_ = candidate_->encode();
}

bool Authority::take_manifest(const SignedManifest& m, std::uint64_t now_ms) {
    if (served_manifest_ && m.manifest.version <= served_manifest_->version) return false;
    if (verifier_.check(m, now_ms) != ManifestCheck::ok) return false;
    served_manifest_ = m.manifest;
    served_ = m.encode();
    return true;
}

}  // namespace veil::directory
