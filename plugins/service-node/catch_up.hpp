#pragma once
/// Catch-up: what a node merges and fetches after comparing one bucket with a peer's, and the
/// round that walks the swarm's peers, their differing buckets and the pages of each bucket.
/// The peer protocol itself (envelopes, op lists, summaries, pages) is veil/proto/peer_rpc.hpp.

#include <functional>
#include <memory>

#include "service.hpp"

namespace veil::node {

/// What a node does with a peer's bucket: merge these (proven) states, fetch these messages' data.
struct CatchUpPlan {
    std::vector<ReplicaOp> merge;
    std::vector<Hash> fetch;
};
[[nodiscard]] CatchUpPlan plan_catch_up(const std::vector<MessageState>& local, const std::vector<ReplicaOp>& remote);

/// What a round did.
struct CatchUpCounts {
    std::size_t fetched = 0;          ///< messages whose data came back
    std::size_t merged = 0;           ///< proven states passed to apply_replica
    std::size_t buckets_skipped = 0;  ///< buckets given up on (an error answer, garbage, a page out of line)
    std::size_t pages = 0;            ///< bucket pages accepted
    std::size_t peers_dropped = 0;    ///< peers whose turn ran out of time or requests
};

/// What one peer's turn may cost, whatever the peer claims (its summary counts are unproven: a
/// member could promise 2^32 states and page through rising hashes forever). A turn that runs
/// out drops the peer from the round; what it brought is kept, so an honest but large catch-up
/// goes on where it stopped in the next round.
struct CatchUpBounds {
    std::uint64_t peer_turn_ms = 300'000;    ///< a turn asks nothing after this long
    std::size_t requests_per_turn = 20'000;  ///< pages and fetches asked of one peer in a turn
};

/// What a round needs from its node. Every callback, and every call of the round, runs on one
/// thread (the node's loop); `off_loop` work runs elsewhere.
struct CatchUpPort {
    /// Sends `body` sealed for `peer`; `done` gets the answer, nullopt when none came.
    std::function<void(const proto::NodeEntry& peer, const PeerBody& body,
                       std::function<void(std::optional<Response>)> done)>
        ask;
    /// Runs `work` off the loop thread, then `then` on it (false when `work` threw).
    std::function<void(std::function<void()> work, std::function<void(bool ok)> then)> off_loop;
    std::function<std::uint64_t()> now_ms;
    /// Called once when the round is over.
    std::function<void(const CatchUpCounts&)> finished;
};

/// One catch-up round with each peer in turn: summary, then each bucket that differs page by
/// page (merge the proven states, fetch the missing data), then the next peer. A peer that does
/// not answer is skipped; a bucket whose answer is an error, does not decode, or does not follow
/// its request (a state of another bucket or not after the cursor, no progress, more states than
/// the peer's summary counted plus one page) is skipped alone: the other buckets still catch up.
/// A peer's turn is bounded by CatchUpBounds, so every round ends and the next one can start.
class CatchUpRound final {
public:
    CatchUpRound(std::shared_ptr<StorageService> service, std::vector<proto::NodeEntry> peers, SwarmId swarm,
                 CatchUpPort port, CatchUpBounds bounds = {});
    CatchUpRound(const CatchUpRound&) = delete;
    CatchUpRound& operator=(const CatchUpRound&) = delete;

    void run() { next_peer(); }
    [[nodiscard]] bool finished() const { return finished_; }
    [[nodiscard]] const CatchUpCounts& counts() const { return counts_; }

private:
    void ask(const PeerBody& body, void (CatchUpRound::*then)(std::optional<Response>));
    void next_peer();
    void skip_peer();
    void on_summary(std::optional<Response> r);
    void start_bucket();
    void skip_bucket();
    void request_page();
    void on_page(std::optional<Response> r);
    [[nodiscard]] bool follows(const BucketPage& page) const;
    void next_fetch();
    void on_fetch(std::optional<Response> r);
    void apply(std::shared_ptr<std::vector<ReplicaOp>> ops);

    std::shared_ptr<StorageService> service_;
    std::vector<proto::NodeEntry> peers_;
    SwarmId swarm_;
    CatchUpPort port_;
    CatchUpBounds bounds_;
    std::size_t peer_i_ = 0;
    std::uint64_t turn_started_ms_ = 0;
    std::size_t turn_requests_ = 0;
    Summary local_{};  // this node's summary when the peer's turn began
    Summary remote_{};
    std::vector<std::uint8_t> buckets_;
    std::size_t bucket_i_ = 0;
    std::optional<Hash> cursor_;  // the last hash of the bucket's pages so far
    std::size_t received_ = 0;    // states of the bucket's pages so far
    bool more_ = false;
    std::vector<Hash> to_fetch_;
    std::size_t fetch_pos_ = 0;
    CatchUpCounts counts_;
    bool finished_ = false;
};

}  // namespace veil::node
