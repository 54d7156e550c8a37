// The catch-up round (catch_up.hpp) between two StorageServices called directly: what a node does
// over the network, synchronously, with a peer that may answer garbage for some buckets.
#include <catch2/catch.hpp>

#include <deque>

#include "catch_up.hpp"
#include "node_fixture.hpp"

using namespace veil::node;
using namespace veil::node::test;

namespace {

// Changes a peer's answer to `body` (a hostile or broken peer).
using Tamper = std::function<void(const PeerBody& body, Response& answer)>;

// `me` asks `peer` directly at `now`; off-loop work runs at once.
CatchUpPort direct_port(Node& peer, const veil::crypto::SigningKeyPair& me, Tamper tamper = {},
                        std::uint64_t now = kNow) {
    CatchUpPort p;
    p.ask = [&peer, &me, tamper, now](const NodeEntry& to, const PeerBody& body,
                                      std::function<void(std::optional<Response>)> done) {
        auto out = peer.service.handle(Request{1, PeerRequest{seal_peer(body, me, to.ed25519, now)}}, now);
        if (tamper) tamper(body, out.response);
        done(std::move(out.response));
    };
    p.off_loop = [](std::function<void()> work, std::function<void(bool)> then) {
        bool ok = true;
        try {
            work();
        } catch (...) {
            ok = false;
        }
        then(ok);
    };
    p.now_ms = [now] { return now; };
    return p;
}

// Runs one round of `to` catching up from `from` at `now`.
CatchUpCounts catch_up(Net& net, Node& to, const veil::crypto::SigningKeyPair& to_key, Node& from,
                       const veil::crypto::SigningKeyPair& from_key, Tamper tamper = {}, std::uint64_t now = kNow) {
    std::shared_ptr<StorageService> service(std::shared_ptr<void>{}, &to.service);  // not owned
    CatchUpRound round(service, {net.entry(from_key)}, kSwarmA, direct_port(from, to_key, std::move(tamper), now));
    round.run();
    REQUIRE(round.finished());
    return round.counts();
}

// Stores `n` messages of `owner` whose hash starts with `bucket` (any bucket when nullopt).
void fill(Node& node, const PublicKey& owner, std::size_t n, std::optional<std::uint8_t> bucket) {
    static std::uint32_t counter = 0;
    for (std::size_t stored = 0; stored < n;) {
        auto c = ++counter;
        Bytes data{static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c >> 16), 1};
        auto hash = message_hash(owner, 0, data);
        if (bucket && hash[0] != *bucket) continue;
        REQUIRE(node.store.store(StoredMessage{owner, 0, hash, kNow + 600'000, data}, kNow) == StoreOutcome::stored);
        ++stored;
    }
}

Summary summary_of(Node& n) {
    return summarize(n.store.states(kNow, [](const PublicKey&) { return true; }));
}

}  // namespace

TEST_CASE("catch-up - a bucket larger than one page converges page by page", "[node][catch-up]") {
    Net net;
    // Pages cut by count (7 states), or by bytes (three states a page).
    auto [page_states, page_bytes, pages_of_bucket_0] = GENERATE(table<std::size_t, std::size_t, std::size_t>(
        {{7, kMaxPageBytes, 6}, {kMaxStatesPerPage, 300, 14}}));
    Limits small;
    small.bucket_page_states = page_states;
    small.bucket_page_bytes = page_bytes;
    Node a1(net.a1, net, small);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    fill(a1, owner.pub, 40, 0);
    fill(a1, owner.pub, 30, std::nullopt);
    auto counts = catch_up(net, a2, net.a2, a1, net.a1);
    CHECK(summary_of(a2) == summary_of(a1));
    CHECK(counts.fetched == 70);
    CHECK(counts.buckets_skipped == 0);
    CHECK(counts.pages >= pages_of_bucket_0);
}

TEST_CASE("catch-up - a bucket the peer answers with garbage is skipped alone", "[node][catch-up]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    fill(a1, owner.pub, 60, std::nullopt);
    auto remote = summary_of(a1);
    auto differing = differing_buckets(summary_of(a2), remote);
    REQUIRE(differing.size() > 2);
    const std::uint8_t broken = differing.front();  // the first asked: every other one comes after it
    SECTION("bytes that do not decode") {
        auto counts = catch_up(net, a2, net.a2, a1, net.a1, [broken](const PeerBody& body, Response& answer) {
            if (auto* b = std::get_if<BucketBody>(&body); b && b->bucket == broken) answer.body = PeerResponse{Bytes{7, 7, 7}};
        });
        CHECK(counts.buckets_skipped == 1);
    }
    SECTION("an error answer") {
        auto counts = catch_up(net, a2, net.a2, a1, net.a1, [broken](const PeerBody& body, Response& answer) {
            if (auto* b = std::get_if<BucketBody>(&body); b && b->bucket == broken)
                answer = error_response(1, Status::internal, "broken");
        });
        CHECK(counts.buckets_skipped == 1);
    }
    CHECK(differing_buckets(summary_of(a2), remote) == std::vector<std::uint8_t>{broken});
}

TEST_CASE("catch-up - a page that does not follow its request ends that bucket", "[node][catch-up]") {
    Net net;
    Limits small;
    small.bucket_page_states = 3;
    Node a1(net.a1, net, small);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    fill(a1, owner.pub, 10, 5);
    fill(a1, owner.pub, 10, 9);
    auto bucket_of = [](const PeerBody& body) -> std::optional<std::uint8_t> {
        if (auto* b = std::get_if<BucketBody>(&body)) return b->bucket;
        return std::nullopt;
    };
    Tamper hostile;
    auto how = GENERATE(as<std::string>{}, "the first page again and again", "more promised, nothing sent",
                        "states of another bucket");
    INFO(how);
    if (how == "the first page again and again") {
        auto first = std::make_shared<Bytes>();
        hostile = [bucket_of, first](const PeerBody& body, Response& answer) {
            if (bucket_of(body) != 5) return;
            auto& reply = std::get<PeerResponse>(answer.body).body;
            if (first->empty()) *first = reply;
            reply = *first;
        };
    }
    if (how == "more promised, nothing sent") {
        hostile = [bucket_of](const PeerBody& body, Response& answer) {
            if (bucket_of(body) == 5) answer.body = PeerResponse{encode_bucket_page(BucketPage{{}, true})};
        };
    }
    if (how == "states of another bucket") {
        hostile = [bucket_of, &a1](const PeerBody& body, Response& answer) {
            if (bucket_of(body) != 5) return;
            auto& reply = std::get<PeerResponse>(answer.body).body;
            auto page = decode_bucket_page(reply);
            auto other = a1.store.states(kNow, [](const PublicKey&) { return true; });
            other.erase(std::remove_if(other.begin(), other.end(), [](const MessageState& s) { return s.hash[0] != 9; }),
                        other.end());
            std::sort(other.begin(), other.end(), [](const auto& x, const auto& y) { return x.hash < y.hash; });
            page.states.push_back(ReplicaOp{other.back(), std::nullopt, nullptr});
            reply = encode_bucket_page(page);
        };
    }
    auto counts = catch_up(net, a2, net.a2, a1, net.a1, hostile);
    CHECK(counts.buckets_skipped == 1);
    // Bucket 9 caught up; bucket 5 kept at most what came before the page out of line.
    auto mine = summary_of(a2);
    auto theirs = summary_of(a1);
    CHECK(mine[9] == theirs[9]);
    CHECK(mine[5].count < theirs[5].count);
}

TEST_CASE("catch-up - bucket pages round-trip and refuse what breaks their rules", "[node][catch-up]") {
    auto owner = owner_in(kSwarmA);
    std::vector<ReplicaOp> ops;
    for (std::uint8_t i = 1; i <= 3; ++i) {
        Hash h{};
        h[1] = i;
        ops.push_back(ReplicaOp{MessageState{h, owner.pub, 0, kNow, i == 2}, std::nullopt,
                                i == 2 ? std::make_shared<const Bytes>(Bytes{1, 2, 3}) : nullptr});
    }
    auto page = decode_bucket_page(encode_bucket_page(BucketPage{ops, true}));
    CHECK(page.more);
    REQUIRE(page.states.size() == 3);
    CHECK(page.states[1].state == ops[1].state);
    REQUIRE(page.states[1].proof);
    CHECK(*page.states[1].proof == Bytes{1, 2, 3});
    std::swap(ops[0], ops[1]);
    CHECK_THROWS_AS(decode_bucket_page(encode_bucket_page(BucketPage{ops, false})), veil::wire::DecodeError);
    std::swap(ops[0], ops[1]);
    ops[2].data = Bytes{1};
    CHECK_THROWS_AS(decode_bucket_page(encode_bucket_page(BucketPage{ops, false})), veil::wire::DecodeError);
    CHECK_THROWS_AS(decode_bucket_page(Bytes{2, 0, 0, 0, 0, 0, 0, 0, 0}), veil::wire::DecodeError);
}

namespace {

// A member that claims 2^32 - 1 states in every bucket and pages through rising hashes forever,
// each page promising more; every fetch comes back empty. Its answers take `step_ms` each.
struct EndlessPeer {
    std::uint64_t step_ms = 0;
    std::uint64_t next = 0;  // the counter in the hashes it makes up

    Response answer(const PeerBody& body, const PublicKey& mailbox) {
        Bytes out;
        if (std::holds_alternative<SummaryBody>(body)) {
            Summary s{};
            for (auto& b : s) b = BucketDigest{0xFFFFFFFF, {7}};
            out = encode_summary(s);
        } else if (const auto* b = std::get_if<BucketBody>(&body)) {
            BucketPage page{{}, true};
            for (int i = 0; i < 50; ++i) {
                Hash h{};
                h[0] = b->bucket;
                auto n = ++next;
                for (int k = 0; k < 8; ++k) h[8 - k] = static_cast<std::uint8_t>(n >> (8 * k));
                page.states.push_back(ReplicaOp{MessageState{h, mailbox, 0, kNow + 600'000, false}, std::nullopt, nullptr});
            }
            out = encode_bucket_page(page);
        } else {
            out = encode_messages({});
        }
        return Response{1, Status::ok, PeerResponse{std::move(out)}};
    }
};

}  // namespace

TEST_CASE("catch-up - a peer paging forever is dropped and the next peer's messages arrive", "[node][catch-up]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    fill(a1, owner.pub, 30, std::nullopt);
    // Its turn ends by time (slow answers, no request bound) or by requests (instant answers).
    auto [step_ms, bounds] = GENERATE(table<std::uint64_t, CatchUpBounds>(
        {{1000, CatchUpBounds{60'000, 1'000'000'000}}, {0, CatchUpBounds{1'000'000'000'000, 2000}}}));
    EndlessPeer hostile{step_ms};
    std::uint64_t now = kNow;
    int summaries = 0;
    // Answers are queued and delivered one at a time, as the loop would: no recursion.
    std::deque<std::function<void()>> pending;
    CatchUpPort port;
    port.ask = [&](const NodeEntry& to, const PeerBody& body, std::function<void(std::optional<Response>)> done) {
        if (std::holds_alternative<SummaryBody>(body)) ++summaries;
        if (summaries == 1) {  // the first turn is the hostile member's
            now += hostile.step_ms;
            pending.push_back([&hostile, &owner, body, done] { done(hostile.answer(body, owner.pub)); });
            return;
        }
        auto out = a1.service.handle(Request{1, PeerRequest{seal_peer(body, net.a2, to.ed25519, now)}}, now);
        ++now;  // each envelope signed at its own time (the replay cache refuses a repeat)
        pending.push_back([done, r = std::move(out.response)]() mutable { done(std::move(r)); });
    };
    port.off_loop = [](std::function<void()> work, std::function<void(bool)> then) {
        work();
        then(true);
    };
    port.now_ms = [&now] { return now; };
    std::shared_ptr<StorageService> service(std::shared_ptr<void>{}, &a2.service);  // not owned
    // The same member twice stands for two members: hostile in its first turn, honest after.
    CatchUpRound round(service, {net.entry(net.a1), net.entry(net.a1)}, kSwarmA, std::move(port), bounds);
    round.run();
    for (int steps = 0; !pending.empty() && steps < 200'000; ++steps) {
        auto next = std::move(pending.front());
        pending.pop_front();
        next();
    }
    REQUIRE(round.finished());
    CHECK(round.counts().peers_dropped == 1);
    CHECK(summary_of(a2) == summary_of(a1));
    CHECK(round.counts().fetched == 30);
}

TEST_CASE("catch-up - peers are asked in a random order each round", "[node][catch_up]") {
    Net net;
    Node a2(net.a2, net);
    std::shared_ptr<StorageService> service(std::shared_ptr<void>{}, &a2.service);  // not owned
    // A hostile member listed first must not go first in every round.
    const NodeEntry hostile = net.entry(net.a1);
    const NodeEntry honest = net.entry(net.b1);
    std::size_t hostile_first = 0;
    constexpr int kRounds = 40;
    for (int i = 0; i < kRounds; ++i) {
        std::optional<PublicKey> first;
        CatchUpPort port;
        port.ask = [&](const NodeEntry& to, const PeerBody&, std::function<void(std::optional<Response>)> done) {
            if (!first) first = to.ed25519;
            done(std::nullopt);  // no answer: the next peer
        };
        port.off_loop = [](std::function<void()> work, std::function<void(bool)> then) {
            work();
            then(true);
        };
        port.now_ms = [] { return kNow; };
        CatchUpRound round(service, {hostile, honest}, kSwarmA, std::move(port));
        round.run();
        REQUIRE(round.finished());
        REQUIRE(first);
        hostile_first += *first == hostile.ed25519 ? 1 : 0;
    }
    // Each order at least once (a fixed order fails; a fair shuffle fails with chance 2^-39).
    CHECK(hostile_first > 0);
    CHECK(hostile_first < kRounds);
}

TEST_CASE("catch-up - a member back past half full converges: what the owner deleted or expired never comes back",
          "[node][catch-up]") {
    Net net(true);
    Limits limits;
    limits.max_stored_bytes = 96 << 10;
    Node a1(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    Node a3(net.a3, net, limits);
    const std::vector<std::pair<Node*, const veil::crypto::SigningKeyPair*>> members{
        {&a1, &net.a1}, {&a2, &net.a2}, {&a3, &net.a3}};
    auto owner = owner_in(kSwarmA);
    auto other = owner_in(kSwarmA);
    auto put = [&](const PublicKey& mailbox, const Bytes& data) {
        StoredMessage m{mailbox, 0, message_hash(mailbox, 0, data), kNow + 600'000, data};
        for (auto [node, key] : members) REQUIRE(node->store.store(m, kNow) == StoreOutcome::stored);
        return m.hash;
    };
    // The owner's messages on every member: small ones it deletes one by one (each frees far less
    // than its proof) and larger ones it expires early together.
    std::vector<Hash> deleted;
    std::vector<Hash> expired;
    for (std::uint8_t i = 0; i < 6; ++i) deleted.push_back(put(owner.pub, Bytes{i, 'd'}));
    for (std::uint8_t i = 0; i < 6; ++i) expired.push_back(put(owner.pub, Bytes(2000, i)));
    // Someone else's fill takes every member past half; without the expired ones it is under half
    // again, where a re-offered message is taken free.
    for (std::uint8_t i = 0; a1.store.stored_bytes() < limits.max_stored_bytes * 55 / 100; ++i) put(other.pub, Bytes(1000, i));
    // a3 is down: the owner deletes and expires on a1, which replicates to a2.
    auto on_a1 = [&](RequestBody body) {
        sign_owner_request(body, owner, kNow);
        auto out = a1.call(std::move(body));
        REQUIRE(out.response.status == Status::ok);
        (void)a2.service.apply_replica(out.replicate, net.a1.pub, kNow);
    };
    for (const auto& h : deleted) on_a1(DeleteRequest{owner.pub, 0, {h}, {}});
    on_a1(ExpireRequest{owner.pub, 0, expired, kNow + 20'000, {}});
    REQUIRE(a2.store.retrieve(owner.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, kNow + 30'000).messages.empty());
    // Later a3 is back, and every member catches up from every other (twice).
    const std::uint64_t later = kNow + 60'000;
    for (auto [node, key] : members) node->store.sweep(later);
    for (int round = 0; round < 2; ++round)
        for (auto [to, to_key] : members)
            for (auto [from, from_key] : members)
                if (to != from) catch_up(net, *to, *to_key, *from, *from_key, {}, later);
    auto all = [](const PublicKey&) { return true; };
    const auto converged = summarize(a1.store.states(later, all));
    for (auto [node, key] : members) {
        INFO("member " << (node == &a1 ? 1 : node == &a2 ? 2 : 3));
        // Nothing of the owner's is served anywhere, and a3 holds what the others hold.
        CHECK(node->store.retrieve(owner.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, later).messages.empty());
        CHECK(summarize(node->store.states(later, all)) == converged);
    }
}

TEST_CASE("catch-up - a member back past half full converges after the owner expired rows and then deleted them",
          "[node][catch-up]") {
    // Review MEDIUM (issue 13): the expire released the rows' share, so past half full each
    // later delete's proof was not kept and the tombstones cited the expire proof, which no
    // member accepts for a deletion: the member that missed both served the rows until their
    // expiry, and the summaries never agreed.
    Net net(true);
    Limits limits;
    limits.max_stored_bytes = 96 << 10;
    Node a1(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    Node a3(net.a3, net, limits);
    const std::vector<std::pair<Node*, const veil::crypto::SigningKeyPair*>> members{
        {&a1, &net.a1}, {&a2, &net.a2}, {&a3, &net.a3}};
    auto owner = owner_in(kSwarmA);
    auto other = owner_in(kSwarmA);
    auto put = [&](const PublicKey& mailbox, const Bytes& data) {
        StoredMessage m{mailbox, 0, message_hash(mailbox, 0, data), kNow + 600'000, data};
        for (auto [node, key] : members) REQUIRE(node->store.store(m, kNow) == StoreOutcome::stored);
        return m.hash;
    };
    std::vector<Hash> rows;
    for (std::uint8_t i = 0; i < 6; ++i) rows.push_back(put(owner.pub, Bytes{i, 'e'}));
    for (std::uint8_t i = 0; a1.store.stored_bytes() < limits.max_stored_bytes * 55 / 100; ++i) put(other.pub, Bytes(1000, i));
    // a3 is down: the owner expires the small rows together, then deletes them one by one (each
    // delete frees far less than its proof), on a1, which replicates to a2.
    auto on_a1 = [&](RequestBody body) {
        sign_owner_request(body, owner, kNow);
        auto out = a1.call(std::move(body));
        REQUIRE(out.response.status == Status::ok);
        (void)a2.service.apply_replica(out.replicate, net.a1.pub, kNow);
    };
    on_a1(ExpireRequest{owner.pub, 0, rows, kNow + 300'000, {}});
    for (const auto& h : rows) on_a1(DeleteRequest{owner.pub, 0, {h}, {}});
    for (const auto& h : rows) {
        auto proof = a1.store.proof_of(h);
        REQUIRE(proof);
        auto change = open_owner_proof(*proof);
        REQUIRE(change);
        CHECK(change->deleted);  // a tombstone's proof is a delete proof
    }
    // Later a3 is back, and every member catches up from every other (twice).
    const std::uint64_t later = kNow + 60'000;
    for (auto [node, key] : members) node->store.sweep(later);
    for (int round = 0; round < 2; ++round)
        for (auto [to, to_key] : members)
            for (auto [from, from_key] : members)
                if (to != from) catch_up(net, *to, *to_key, *from, *from_key, {}, later);
    auto all = [](const PublicKey&) { return true; };
    const auto converged = summarize(a1.store.states(later, all));
    for (auto [node, key] : members) {
        INFO("member " << (node == &a1 ? 1 : node == &a2 ? 2 : 3));
        CHECK(node->store.retrieve(owner.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, later).messages.empty());
        const auto states = node->store.states_of(rows, later);
        CHECK(states.size() == rows.size());
        for (const auto& s : states) CHECK(s.deleted);
        CHECK(summarize(node->store.states(later, all)) == converged);
    }
}

TEST_CASE("catch-up - a row a member replicates after its owner deleted it is tombstoned by catch-up",
          "[node][catch-up]") {
    // Review MEDIUM (nodefix3): a replicated row took its generation from its arrival, so a
    // hostile member pushing an old row (its original store auth) after the owner's delete to a
    // member that lacked it made that member refuse the tombstone: it served the deleted row.
    Net net(true);
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    Node a3(net.a3, net);
    auto owner = owner_in(kSwarmA);
    // The owner stores on a1, which replicates to a2 (a3 is down); then deletes it on a1.
    RequestBody body = StoreRequest{owner.pub, 0, 24 * 3600 * 1000, {1, 2, 3}};
    sign_owner_request(body, owner, kNow);
    auto stored = a1.call(std::move(body));
    REQUIRE(stored.response.status == Status::ok);
    REQUIRE_FALSE(stored.replicate.empty());
    (void)a2.service.apply_replica(stored.replicate, net.a1.pub, kNow);
    const Hash hash = message_hash(owner.pub, 0, Bytes{1, 2, 3});
    RequestBody del = DeleteRequest{owner.pub, 0, {hash}, {}};
    sign_owner_request(del, owner, kNow + 60'000);
    auto deleted = a1.call(std::move(del), kNow + 60'000);
    REQUIRE(deleted.response.status == Status::ok);
    // Hours later a2 replicates the old row to a3, as if it had just been stored.
    const std::uint64_t later = kNow + 3 * 3600 * 1000;
    (void)a3.service.apply_replica(stored.replicate, net.a2.pub, later);
    // Catch-up from a1 brings the owner's delete to a3.
    catch_up(net, a3, net.a3, a1, net.a1, {}, later);
    CHECK(a3.store.retrieve(owner.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, later).messages.empty());
    const auto states = a3.store.states_of({hash}, later);
    REQUIRE(states.size() == 1);
    CHECK(states[0].deleted);
}
