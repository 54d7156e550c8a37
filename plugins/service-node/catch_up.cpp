#include "catch_up.hpp"

#include <algorithm>
#include <map>

#include "veil/crypto/random.hpp"

namespace veil::node {

namespace {

constexpr std::size_t kFetchBatch = 500;

// The body of a peer's ok answer; nullopt for an error answer.
std::optional<Bytes> ok_body(std::optional<Response>& r) {
    if (!r || r->status != Status::ok) return std::nullopt;
    return std::get<PeerResponse>(std::move(r->body)).body;
}

}  // namespace

CatchUpPlan plan_catch_up(const std::vector<MessageState>& local, const std::vector<ReplicaOp>& remote) {
    std::map<Hash, const MessageState*> mine;
    for (const auto& s : local) mine[s.hash] = &s;
    CatchUpPlan plan;
    for (const auto& op : remote) {
        const MessageState& r = op.state;
        auto it = mine.find(r.hash);
        if (it == mine.end()) {
            if (!r.deleted) plan.fetch.push_back(r.hash);
            else if (op.proof) plan.merge.push_back(op);
            continue;
        }
        // Only a proof can delete or shorten; the merge checks it.
        const MessageState& l = *it->second;
        if (op.proof && ((r.deleted && !l.deleted) || r.expiry_ms < l.expiry_ms)) plan.merge.push_back(op);
    }
    return plan;
}

CatchUpRound::CatchUpRound(std::shared_ptr<StorageService> service, std::vector<proto::NodeEntry> peers, SwarmId swarm,
                           CatchUpPort port, CatchUpBounds bounds)
    : service_(std::move(service)), peers_(std::move(peers)), swarm_(swarm), port_(std::move(port)), bounds_(bounds) {
    // A random order each round: a hostile member first in manifest order would otherwise spend
    // its whole turn ahead of the honest ones in every round.
    crypto::shuffle(peers_);
}

// Asks the current peer, unless its turn is spent: then the peer is dropped from the round.
void CatchUpRound::ask(const PeerBody& body, void (CatchUpRound::*then)(std::optional<Response>)) {
    if (turn_requests_ >= bounds_.requests_per_turn || port_.now_ms() >= turn_started_ms_ + bounds_.peer_turn_ms) {
        ++counts_.peers_dropped;
        return skip_peer();
    }
    ++turn_requests_;
    port_.ask(peers_[peer_i_], body, [this, then](std::optional<Response> r) { (this->*then)(std::move(r)); });
}

void CatchUpRound::next_peer() {
    if (peer_i_ >= peers_.size()) {
        finished_ = true;
        if (port_.finished) port_.finished(counts_);
        return;
    }
    turn_started_ms_ = port_.now_ms();
    turn_requests_ = 0;
    auto service = service_;
    auto local = std::make_shared<Summary>();
    port_.off_loop(
        [service, local, now = port_.now_ms()] {
            *local = service->store().summary(now, [&service](const PublicKey& mb) { return service->owns(mb); });
        },
        [this, local](bool ok) {
            if (!ok) return skip_peer();
            local_ = *local;
            ask(SummaryBody{swarm_}, &CatchUpRound::on_summary);
        });
}

void CatchUpRound::skip_peer() {
    ++peer_i_;
    next_peer();
}

void CatchUpRound::on_summary(std::optional<Response> r) {
    auto body = ok_body(r);
    if (!body) return skip_peer();
    try {
        remote_ = decode_summary(*body);
    } catch (const wire::DecodeError&) {
        return skip_peer();
    }
    buckets_ = differing_buckets(local_, remote_);
    bucket_i_ = 0;
    start_bucket();
}

void CatchUpRound::start_bucket() {
    if (bucket_i_ >= buckets_.size()) return skip_peer();
    cursor_.reset();
    received_ = 0;
    request_page();
}

void CatchUpRound::skip_bucket() {
    ++counts_.buckets_skipped;
    ++bucket_i_;
    start_bucket();
}

void CatchUpRound::request_page() { ask(BucketBody{swarm_, buckets_[bucket_i_], cursor_}, &CatchUpRound::on_page); }

void CatchUpRound::on_page(std::optional<Response> r) {
    if (!r) return skip_peer();  // no answer: the peer is down
    auto body = ok_body(r);
    if (!body) return skip_bucket();
    BucketPage page;
    try {
        page = decode_bucket_page(*body);
    } catch (const wire::DecodeError&) {
        return skip_bucket();
    }
    if (!follows(page)) return skip_bucket();
    ++counts_.pages;
    received_ += page.states.size();
    if (!page.states.empty()) cursor_ = page.states.back().state.hash;
    more_ = page.more;
    // This node's side of the page: only the states it names, read off the loop (a page, not
    // the store, bounds what is read and held).
    auto shared = std::make_shared<BucketPage>(std::move(page));
    auto local = std::make_shared<std::vector<MessageState>>();
    auto service = service_;
    port_.off_loop(
        [service, shared, local, now = port_.now_ms()] {
            std::vector<Hash> hashes;
            hashes.reserve(shared->states.size());
            for (const auto& op : shared->states) hashes.push_back(op.state.hash);
            *local = service->store().states_of(hashes, now);
        },
        [this, shared, local](bool ok) {
            if (!ok) return skip_peer();
            auto plan = plan_catch_up(*local, shared->states);
            to_fetch_ = std::move(plan.fetch);
            fetch_pos_ = 0;
            counts_.merged += plan.merge.size();
            // Deletions and lower expiries apply only where the owner's proof verifies.
            apply(std::make_shared<std::vector<ReplicaOp>>(std::move(plan.merge)));
        });
}

bool CatchUpRound::follows(const BucketPage& page) const {
    if (page.more && page.states.empty()) return false;  // no progress
    // The decoder checked the order; the first state must come after the cursor.
    if (!page.states.empty() && cursor_ && !(*cursor_ < page.states.front().state.hash)) return false;
    for (const auto& op : page.states)
        if (op.state.hash[0] != buckets_[bucket_i_]) return false;
    // An honest bucket can grow after the summary, by less than a page in between.
    return received_ + page.states.size() <= remote_[buckets_[bucket_i_]].count + kMaxStatesPerPage;
}

void CatchUpRound::next_fetch() {
    if (fetch_pos_ >= to_fetch_.size()) {
        if (more_) return request_page();
        ++bucket_i_;
        return start_bucket();
    }
    auto end = std::min(to_fetch_.size(), fetch_pos_ + kFetchBatch);
    ask(FetchBody{std::vector<Hash>(to_fetch_.begin() + static_cast<std::ptrdiff_t>(fetch_pos_),
                                    to_fetch_.begin() + static_cast<std::ptrdiff_t>(end))},
        &CatchUpRound::on_fetch);
}

void CatchUpRound::on_fetch(std::optional<Response> r) {
    if (!r) return skip_peer();
    auto body = ok_body(r);
    if (!body) return skip_bucket();
    std::vector<StoredMessage> msgs;
    try {
        msgs = decode_messages(*body);
    } catch (const wire::DecodeError&) {
        return skip_bucket();
    }
    // A reply is size-capped: advance by what came back (at least one to make progress).
    fetch_pos_ += std::max<std::size_t>(1, msgs.size());
    counts_.fetched += msgs.size();
    auto ops = std::make_shared<std::vector<ReplicaOp>>();
    for (auto& m : msgs)
        ops->push_back(ReplicaOp{MessageState{m.hash, m.mailbox, m.ns, m.expiry_ms, false}, std::move(m.data), nullptr,
                                 std::move(m.store_auth)});
    apply(std::move(ops));
}

// Merges `ops` off the loop (each checked by apply_replica and charged to the peer), then goes on
// fetching.
void CatchUpRound::apply(std::shared_ptr<std::vector<ReplicaOp>> ops) {
    auto service = service_;
    port_.off_loop([service, ops, from = peers_[peer_i_].ed25519, now = port_.now_ms()] {
        (void)service->apply_replica(*ops, from, now);
    },
                   [this](bool) { next_fetch(); });
}

}  // namespace veil::node
