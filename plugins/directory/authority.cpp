#include "authority.hpp"

#include <algorithm>
#include <stdexcept>

namespace veil::directory {

Authority::Authority(const crypto::SigningKeyPair& key, AuthorityConfig config)
    : key_(key),
      config_(std::move(config)),
      registry_(config_.registry),
      verifier_(config_.authority_keys,
                config_.threshold ? config_.threshold : majority_of(config_.authority_keys.size())) {
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
    if (p > period_) {
        period_ = p;
        // Still warming up: a vote now would leave out the nodes that have not beaten yet.
        formed_ = period_start_ms(p, config_.consensus.period_ms) < *started_ms_ + config_.warm_up_ms;
        candidate_.reset();
        own_signature_.reset();
        early_signatures_.clear();
        std::erase_if(votes_, [p](const auto& kv) { return kv.first.first < p; });
        vote_envelope_.clear();
        if (formed_) return;
        Vote mine{p, key_.pub, registry_.view()};
        vote_envelope_ = sign_vote(mine, key_);
        votes_[{p, key_.pub}] = std::move(mine);
    }
    if (!formed_ && now_ms >= period_start_ms(p, config_.consensus.period_ms) + config_.consensus.period_ms / 2) form(now_ms);
}

bool Authority::take_vote(const Vote& v) {
    if (!configured(v.authority) || v.authority == key_.pub) return false;
    if (v.period < period_ || v.period > period_ + 1) return false;  // only now or the next (clock skew)
    votes_[{v.period, v.authority}] = v;
    return true;
}

void Authority::form(std::uint64_t now_ms) {
    formed_ = true;
    std::vector<Vote> votes;
    for (const auto& [at, v] : votes_)
        if (at.first == period_) votes.push_back(v);
    auto m = form_consensus(votes, period_, served_manifest_ ? &*served_manifest_ : nullptr, config_.consensus);
    if (served_manifest_ && m.version <= served_manifest_->version) return;  // never back
    std::vector<const crypto::SigningKeyPair*> signers{&key_};
    candidate_ = sign_manifest(m, signers);
    own_signature_ = ConsensusSignature{m.version, key_.pub, candidate_->signatures.front().second};
    auto early = std::move(early_signatures_);
    early_signatures_.clear();
    for (const auto& [k, s] : early) take_signature(s, now_ms);
    serve_if_enough(now_ms);
}

bool Authority::take_signature(const ConsensusSignature& s, std::uint64_t now_ms) {
    if (!configured(s.authority) || s.authority == key_.pub) return false;
    if (!candidate_) {
        if (s.version != period_) return false;
        early_signatures_[s.authority] = s;  // one per authority: bounded by N
        return true;
    }
    if (s.version != candidate_->manifest.version) return false;
    for (const auto& [k, sig] : candidate_->signatures)
        if (k == s.authority) return false;
    // A signature on another body (the other authority saw other votes) does not verify here.
    if (!crypto::verify_signature(s.authority, manifest_signed_bytes(candidate_->body), s.signature)) return false;
    candidate_->signatures.emplace_back(s.authority, s.signature);
    serve_if_enough(now_ms);
    return true;
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
