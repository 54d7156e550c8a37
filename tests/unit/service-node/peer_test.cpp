#include <catch2/catch.hpp>

#include "veil/proto/namespaces.hpp"
#include <algorithm>

#include "veil/proto/owner_auth.hpp"
#include "catch_up.hpp"

using namespace veil::node;
using veil::crypto::SigningKeyPair;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;

StoredMessage msg(std::uint8_t mb, std::string_view text, std::uint64_t expiry = kNow + 60'000) {
    PublicKey k{};
    k.fill(mb);
    Bytes data(text.begin(), text.end());
    return StoredMessage{k, 0, message_hash(k, 0, data), expiry, data};
}

// One catch-up pass of `to` from `from`, as the plugin runs it over the network.
void catch_up(MessageStore& to, MessageStore& from) {
    auto all = [](const PublicKey&) { return true; };
    auto local = to.states(kNow, all);
    auto remote = from.states(kNow, all);
    for (auto bucket : differing_buckets(summarize(local), summarize(remote))) {
        // Round-trip through the wire encodings the peers use.
        std::vector<ReplicaOp> ops;
        for (const auto& st : bucket_states(remote, bucket)) {
            ReplicaOp op{st, std::nullopt};
            if (auto p = from.proof_of(st.hash)) op.proof = std::make_shared<const Bytes>(*p);
            ops.push_back(op);
        }
        std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.state.hash < b.state.hash; });
        auto theirs = decode_bucket_page(encode_bucket_page(BucketPage{ops, false})).states;
        auto plan = plan_catch_up(bucket_states(local, bucket), theirs);
        // (The node verifies each proof first: StorageService::apply_replica.)
        for (const auto& op : plan.merge) to.merge({op.state, nullptr, nullptr, op.proof.get()}, kNow);
        for (const auto& m : decode_messages(encode_messages(from.fetch(plan.fetch, kMaxFetchBytes, kNow))))
            to.merge({MessageState{m.hash, m.mailbox, m.ns, m.expiry_ms, false}, &m.data,
                      m.store_auth.empty() ? nullptr : &m.store_auth, nullptr}, kNow);
    }
}

}  // namespace

TEST_CASE("peer - envelopes are signed by the sending node", "[node][peer]") {
    auto node = veil::crypto::SigningKeyPair::generate();
    auto m = msg(1, "x");
    PeerBody body = ReplicateBody{{ReplicaOp{MessageState{m.hash, m.mailbox, 0, m.expiry_ms, false}, m.data}}};
    auto recipient = veil::crypto::SigningKeyPair::generate().pub;
    auto env = seal_peer(body, node, recipient, kNow);
    auto opened = open_peer(env);
    CHECK(opened.sender == node.pub);
    CHECK(opened.recipient == recipient);
    REQUIRE(peek_peer(env));
    CHECK(peek_peer(env)->sender == node.pub);
    CHECK(peek_peer(env)->recipient == recipient);
    CHECK(open_peer(seal_peer(body, node, recipient, kNow)).nonce != opened.nonce);  // fresh each time
    CHECK(opened.timestamp_ms == kNow);
    CHECK(verify_peer(opened));
    REQUIRE(std::get<ReplicateBody>(opened.body).ops.size() == 1);
    CHECK(std::get<ReplicateBody>(opened.body).ops[0].data == m.data);

    auto tampered = env;
    tampered[70] ^= 1;  // inside the timestamp
    CHECK_FALSE(verify_peer(open_peer(tampered)));
    auto truncated = env;
    truncated.pop_back();
    CHECK_THROWS_AS(open_peer(truncated), veil::wire::DecodeError);
}

TEST_CASE("peer - an unproven state only adds; a proof deletes or shortens", "[node][peer]") {
    MessageStore s({":memory:", "", false}, Limits{});
    auto m = msg(1, "x");
    Bytes proof{1};  // the store trusts its caller to have verified it (apply_replica)
    MessageState live{m.hash, m.mailbox, 0, m.expiry_ms, false};
    CHECK(s.merge({live, &m.data, nullptr, nullptr}, kNow));
    CHECK_FALSE(s.merge({live, &m.data, nullptr, nullptr}, kNow));  // again: nothing changes
    MessageState shorter = live;
    shorter.expiry_ms -= 1000;
    CHECK_FALSE(s.merge({shorter, nullptr, nullptr, nullptr}, kNow));  // no proof: no shortening
    CHECK(s.merge({shorter, nullptr, nullptr, &proof}, kNow));
    CHECK_FALSE(s.merge({live, nullptr, nullptr, &proof}, kNow));  // a higher expiry does not extend
    MessageState gone = shorter;
    gone.deleted = true;
    CHECK_FALSE(s.merge({gone, nullptr, nullptr, nullptr}, kNow));  // no proof: no deletion
    CHECK(s.retrieve(m.mailbox, 0, {}, kNow).messages.size() == 1);
    MessageState elsewhere = gone;
    elsewhere.mailbox[0] ^= 1;  // a proof for another mailbox cannot touch this row
    CHECK_FALSE(s.merge({elsewhere, nullptr, nullptr, &proof}, kNow));
    CHECK(s.merge({gone, nullptr, nullptr, &proof}, kNow));
    CHECK(s.proof_of(m.hash) == proof);
    CHECK_FALSE(s.merge({live, &m.data, nullptr, nullptr}, kNow));  // a deletion is final
    CHECK(s.retrieve(m.mailbox, 0, {}, kNow).messages.empty());

    // Data that does not match its hash is refused; an unknown tombstone needs a proof.
    auto other = msg(2, "y");
    Bytes wrong{'z'};
    CHECK_FALSE(s.merge({MessageState{other.hash, other.mailbox, 0, other.expiry_ms, false}, &wrong, nullptr, nullptr}, kNow));
    CHECK_FALSE(s.merge({MessageState{other.hash, other.mailbox, 0, other.expiry_ms, true}, nullptr, nullptr, nullptr}, kNow));
}

TEST_CASE("peer - catch-up converges two replicas that diverged", "[node][peer]") {
    MessageStore a({":memory:", "", false}, Limits{});
    MessageStore b({":memory:", "", false}, Limits{});
    // Both saw some messages; then b was down while a took more, deleted one and shortened one.
    std::vector<StoredMessage> shared;
    for (int i = 0; i < 50; ++i) shared.push_back(msg(static_cast<std::uint8_t>(i % 5), "shared " + std::to_string(i)));
    // The deleted and the shortened message belong to a real owner, who signs the changes.
    auto owner = SigningKeyPair::generate();
    for (int i = 0; i < 2; ++i) {
        Bytes d{static_cast<std::uint8_t>(i)};
        shared[static_cast<std::size_t>(i)] = StoredMessage{owner.pub, 0, message_hash(owner.pub, 0, d), kNow + 60'000, d};
    }
    RequestBody del = DeleteRequest{owner.pub, 0, {shared[0].hash}, {}};
    sign_owner_request(del, owner, kNow);
    RequestBody exp = ExpireRequest{owner.pub, 0, {shared[1].hash}, kNow + 20'000, {}};
    sign_owner_request(exp, owner, kNow);
    for (const auto& m : shared) {
        REQUIRE(a.store(m, kNow) == StoreOutcome::stored);
        REQUIRE(b.store(m, kNow) == StoreOutcome::stored);
    }
    std::vector<StoredMessage> missed;
    for (int i = 0; i < 30; ++i) missed.push_back(msg(9, "missed " + std::to_string(i)));
    for (const auto& m : missed) REQUIRE(a.store(m, kNow) == StoreOutcome::stored);
    REQUIRE(a.remove(shared[0].mailbox, 0, {shared[0].hash}, kNow, {encode_owner_proof(del), kNow}).size() == 1);
    REQUIRE(a.expire(shared[1].mailbox, 0, {shared[1].hash}, kNow + 20'000, kNow, {encode_owner_proof(exp), kNow}).size() == 1);
    // And b took one that a never saw.
    auto only_b = msg(8, "only b");
    REQUIRE(b.store(only_b, kNow) == StoreOutcome::stored);

    catch_up(b, a);
    catch_up(a, b);
    auto all = [](const PublicKey&) { return true; };
    CHECK(summarize(a.states(kNow, all)) == summarize(b.states(kNow, all)));
    CHECK(b.retrieve(missed[0].mailbox, 0, PageQuery{std::nullopt, 100, 1 << 20}, kNow).messages.size() == 30);
    CHECK(b.retrieve(only_b.mailbox, 0, {}, kNow).messages.size() == 1);
    CHECK(a.retrieve(only_b.mailbox, 0, {}, kNow).messages.size() == 1);
    // The deletion held: the message did not come back from b.
    auto box0 = a.retrieve(shared[0].mailbox, 0, PageQuery{std::nullopt, 100, 1 << 20}, kNow).messages;
    for (const auto& item : box0) CHECK(item.hash != shared[0].hash);
    CHECK(differing_buckets(summarize(a.states(kNow, all)), summarize(b.states(kNow, all))).empty());
}

TEST_CASE("peer - reply decoders refuse malformed bytes", "[node][peer]") {
    CHECK_THROWS_AS(decode_summary(Bytes(10)), veil::wire::DecodeError);
    CHECK_THROWS_AS(decode_bucket_page(veil::wire::Writer{}.u8(0).u32(5).take()), veil::wire::DecodeError);
    CHECK_THROWS_AS(decode_messages(veil::wire::Writer{}.u32(0xffffffff).take()), veil::wire::DecodeError);
    Summary empty = summarize({});
    CHECK(decode_summary(encode_summary(empty)) == empty);
}

TEST_CASE("peer - store auths travel in op lists and fetched messages; version 2 envelopes are refused",
          "[node][peer]") {
    auto owner = SigningKeyPair::generate();
    RequestBody body = StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {7}};
    sign_owner_request(body, owner, kNow);
    const auto& q = std::get<StoreRequest>(body);
    auto auth = encode_store_auth(q);
    MessageState st{message_hash(owner.pub, q.ns, q.data), owner.pub, q.ns, kNow + 60'000, false};
    auto node = SigningKeyPair::generate();
    auto sealed = seal_peer(ReplicateBody{{ReplicaOp{st, q.data, nullptr, auth}, ReplicaOp{st, q.data}}}, node, node.pub, kNow);
    auto ops = std::get<ReplicateBody>(open_peer(sealed).body).ops;
    REQUIRE(ops.size() == 2);
    CHECK(ops[0].store_auth == auth);
    CHECK(ops[1].store_auth.empty());
    auto msgs = decode_messages(encode_messages({StoredMessage{owner.pub, q.ns, st.hash, st.expiry_ms, q.data, auth}}));
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].store_auth == auth);
    // Flag 4 with an empty store auth is not a second encoding of "none".
    auto w = veil::wire::Writer{}.u8(0).u32(0).u32(1);  // a bucket page: more = 0, no proofs, one op
    w.raw(st.hash).raw(st.mailbox).u16(st.ns).u64(st.expiry_ms).u8(0).u8(4).var(Bytes{});
    CHECK_THROWS_AS(decode_bucket_page(w.take()), veil::wire::DecodeError);
    // An envelope of the previous version (no store auths) is refused before anything is read.
    auto env = seal_peer(SummaryBody{0}, node, node.pub, kNow);
    env[0] = 2;
    CHECK_FALSE(peek_peer(env));
    CHECK_THROWS_AS(open_peer(env), veil::wire::DecodeError);
}
