#include "veil/proto/peer_rpc.hpp"

#include "veil/proto/owner_auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <map>

namespace veil::proto::node {

namespace {

using wire::to_array;
constexpr std::string_view kPeerDomain = "veil-peer-v3";

enum class Kind : std::uint8_t { replicate = 1, summary = 2, bucket = 3, fetch = 4 };
enum OpFlag : std::uint8_t { kHasData = 1, kHasProof = 2, kHasStoreAuth = 4, kAllFlags = 7 };

void put_state(wire::Writer& w, const MessageState& s) {
    w.raw(s.hash).raw(s.mailbox).u16(s.ns).u64(s.expiry_ms).u8(s.deleted ? 1 : 0);
}

MessageState get_state(wire::Reader& r) {
    MessageState s;
    s.hash = to_array<32>(r.raw(32));
    s.mailbox = to_array<32>(r.raw(32));
    s.ns = r.u16();
    s.expiry_ms = r.u64();
    std::uint8_t d = r.u8();
    if (d > 1) throw wire::DecodeError("peer: bad deleted flag");
    s.deleted = d == 1;
    return s;
}

constexpr std::size_t kStateBytes = 32 + 32 + 2 + 8 + 1;

Bytes signed_bytes(const PeerEnvelope& e) {
    wire::Writer w;
    w.raw({reinterpret_cast<const std::uint8_t*>(kPeerDomain.data()), kPeerDomain.size()});
    w.raw(e.sender).raw(e.recipient).u64(e.timestamp_ms).raw(e.nonce).raw(e.inner);
    return w.take();
}

// An op list: the distinct proofs once, then the ops naming theirs by index.
void put_ops(wire::Writer& w, const std::vector<ReplicaOp>& ops) {
    std::vector<const Bytes*> proofs;
    std::map<Bytes, std::uint32_t> index;
    std::vector<std::uint32_t> op_proof(ops.size(), 0);
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (!ops[i].proof) continue;
        auto [it, added] = index.try_emplace(*ops[i].proof, static_cast<std::uint32_t>(proofs.size()));
        if (added) proofs.push_back(ops[i].proof.get());
        op_proof[i] = it->second;
    }
    w.u32(static_cast<std::uint32_t>(proofs.size()));
    for (const auto* p : proofs) w.var(*p);
    w.u32(static_cast<std::uint32_t>(ops.size()));
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const auto& op = ops[i];
        put_state(w, op.state);
        w.u8(static_cast<std::uint8_t>((op.data ? kHasData : 0) | (op.proof ? kHasProof : 0) |
                                       (op.store_auth.empty() ? 0 : kHasStoreAuth)));
        if (op.proof) w.u32(op_proof[i]);
        if (op.data) w.var(*op.data);
        if (!op.store_auth.empty()) w.var(op.store_auth);
    }
}

std::vector<ReplicaOp> get_ops(wire::Reader& r, std::size_t max_ops) {
    std::uint32_t n_proofs = r.u32();
    if (n_proofs > max_ops || n_proofs > r.remaining() / 4) throw wire::DecodeError("peer: bad proof count");
    std::vector<std::shared_ptr<const Bytes>> proofs;
    for (std::uint32_t i = 0; i < n_proofs; ++i) {
        auto p = r.var(kMaxProofBytes);
        proofs.push_back(std::make_shared<const Bytes>(p.begin(), p.end()));
    }
    std::uint32_t n = r.u32();
    if (n > max_ops || n > r.remaining() / (kStateBytes + 1)) throw wire::DecodeError("peer: bad op count");
    std::vector<ReplicaOp> ops;
    ops.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        ReplicaOp op{get_state(r), std::nullopt, nullptr};
        std::uint8_t flags = r.u8();
        if (flags > kAllFlags) throw wire::DecodeError("peer: bad op flags");
        if (flags & kHasProof) {
            std::uint32_t k = r.u32();
            if (k >= proofs.size()) throw wire::DecodeError("peer: bad proof index");
            op.proof = proofs[k];
        }
        if (flags & kHasData) {
            auto d = r.var(kMaxDataBytes);
            op.data = Bytes(d.begin(), d.end());
        }
        if (flags & kHasStoreAuth) {
            auto a = r.var(kMaxStoreAuthBytes);
            if (a.empty()) throw wire::DecodeError("peer: empty store auth");  // one encoding per op
            op.store_auth.assign(a.begin(), a.end());
        }
        ops.push_back(std::move(op));
    }
    return ops;
}

Bytes encode_inner(const PeerBody& body) {
    wire::Writer w;
    if (auto* b = std::get_if<ReplicateBody>(&body)) {
        w.u8(static_cast<std::uint8_t>(Kind::replicate));
        put_ops(w, b->ops);
    } else if (auto* s = std::get_if<SummaryBody>(&body)) {
        w.u8(static_cast<std::uint8_t>(Kind::summary)).u64(s->swarm);
    } else if (auto* k = std::get_if<BucketBody>(&body)) {
        w.u8(static_cast<std::uint8_t>(Kind::bucket)).u64(k->swarm).u8(k->bucket).u8(k->after ? 1 : 0);
        if (k->after) w.raw(*k->after);
    } else if (auto* f = std::get_if<FetchBody>(&body)) {
        w.u8(static_cast<std::uint8_t>(Kind::fetch)).u32(static_cast<std::uint32_t>(f->hashes.size()));
        for (const auto& h : f->hashes) w.raw(h);
    }
    return w.take();
}

PeerBody decode_inner(ByteView inner) {
    wire::Reader r(inner);
    PeerBody out;
    switch (static_cast<Kind>(r.u8())) {
        case Kind::replicate: out = ReplicateBody{get_ops(r, kMaxOpsPerReplicate)}; break;
        case Kind::summary: out = SummaryBody{r.u64()}; break;
        case Kind::bucket: {
            BucketBody b;
            b.swarm = r.u64();
            b.bucket = r.u8();
            std::uint8_t has_after = r.u8();
            if (has_after > 1) throw wire::DecodeError("peer: bad cursor flag");
            if (has_after) b.after = to_array<32>(r.raw(32));
            out = b;
            break;
        }
        case Kind::fetch: {
            FetchBody f;
            std::uint32_t n = r.u32();
            if (n > kMaxHashesPerRequest * 10 || n > r.remaining() / 32) throw wire::DecodeError("peer: bad hash count");
            for (std::uint32_t i = 0; i < n; ++i) f.hashes.push_back(to_array<32>(r.raw(32)));
            out = std::move(f);
            break;
        }
        default: throw wire::DecodeError("peer: unknown request kind");
    }
    r.expect_done();
    return out;
}

}  // namespace

Bytes seal_peer(const PeerBody& body, const crypto::SigningKeyPair& node_key, const PublicKey& recipient,
                std::uint64_t now_ms) {
    PeerEnvelope e;
    e.sender = node_key.pub;
    e.recipient = recipient;
    e.timestamp_ms = now_ms;
    randombytes_buf(e.nonce.data(), e.nonce.size());
    e.inner = encode_inner(body);
    auto sig = node_key.sign(signed_bytes(e));
    return wire::Writer{}.u8(kPeerVersion).raw(e.sender).raw(e.recipient).u64(now_ms).raw(e.nonce).var(e.inner).raw(sig).take();
}

std::optional<PeerHeader> peek_peer(ByteView envelope) {
    if (envelope.size() < kPeerHeaderBytes || envelope[0] != kPeerVersion) return std::nullopt;
    PeerHeader h;
    std::copy_n(envelope.begin() + 1, 32, h.sender.begin());
    std::copy_n(envelope.begin() + 33, 32, h.recipient.begin());
    return h;
}

PeerEnvelope open_peer(ByteView envelope) {
    wire::Reader r(envelope);
    if (r.u8() != kPeerVersion) throw wire::DecodeError("peer: unsupported envelope version");
    PeerEnvelope e;
    e.sender = to_array<32>(r.raw(32));
    e.recipient = to_array<32>(r.raw(32));
    e.timestamp_ms = r.u64();
    e.nonce = to_array<kNonceBytes>(r.raw(kNonceBytes));
    auto inner = r.var(kMaxPeerBodyBytes);
    e.inner.assign(inner.begin(), inner.end());
    e.signature = to_array<64>(r.raw(64));
    r.expect_done();
    e.body = decode_inner(e.inner);
    return e;
}

bool verify_peer(const PeerEnvelope& e) { return crypto::verify_signature(e.sender, signed_bytes(e), e.signature); }

struct SummaryBuilder::Hashers {
    std::array<crypto_generichash_state, kBuckets> h;
};

SummaryBuilder::SummaryBuilder() : hashers_(std::make_unique<Hashers>()) {
    for (auto& h : hashers_->h) crypto_generichash_init(&h, nullptr, 0, 16);
}

SummaryBuilder::~SummaryBuilder() = default;

void SummaryBuilder::add(const MessageState& s) {
    wire::Writer w;
    put_state(w, s);
    crypto_generichash_update(&hashers_->h[s.hash[0]], w.bytes().data(), w.bytes().size());
    out_[s.hash[0]].count += 1;
}

Summary SummaryBuilder::finish() {
    for (std::size_t i = 0; i < kBuckets; ++i) crypto_generichash_final(&hashers_->h[i], out_[i].digest.data(), 16);
    return out_;
}

Summary summarize(std::vector<MessageState> states) {
    std::sort(states.begin(), states.end(), [](const auto& a, const auto& b) { return a.hash < b.hash; });
    SummaryBuilder b;
    for (const auto& s : states) b.add(s);
    return b.finish();
}

std::vector<std::uint8_t> differing_buckets(const Summary& local, const Summary& remote) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < kBuckets; ++i)
        if (!(local[i] == remote[i])) out.push_back(static_cast<std::uint8_t>(i));
    return out;
}

std::vector<MessageState> bucket_states(const std::vector<MessageState>& states, std::uint8_t bucket) {
    std::vector<MessageState> out;
    for (const auto& s : states)
        if (s.hash[0] == bucket) out.push_back(s);
    return out;
}

Bytes encode_summary(const Summary& s) {
    wire::Writer w;
    for (const auto& b : s) w.u32(b.count).raw(b.digest);
    return w.take();
}

Summary decode_summary(ByteView b) {
    wire::Reader r(b);
    Summary s{};
    for (auto& d : s) {
        d.count = r.u32();
        d.digest = to_array<16>(r.raw(16));
    }
    r.expect_done();
    return s;
}

Bytes encode_bucket_page(const BucketPage& page) {
    wire::Writer w;
    w.u8(page.more ? 1 : 0);
    put_ops(w, page.states);
    return w.take();
}

BucketPage decode_bucket_page(ByteView b) {
    wire::Reader r(b);
    BucketPage page;
    std::uint8_t more = r.u8();
    if (more > 1) throw wire::DecodeError("peer: bad more flag");
    page.more = more == 1;
    page.states = get_ops(r, kMaxStatesPerPage);
    r.expect_done();
    for (std::size_t i = 0; i < page.states.size(); ++i) {
        if (page.states[i].data) throw wire::DecodeError("peer: data in a bucket page");
        if (i > 0 && !(page.states[i - 1].state.hash < page.states[i].state.hash))
            throw wire::DecodeError("peer: bucket page out of order");
    }
    return page;
}

Bytes encode_messages(const std::vector<StoredMessage>& msgs) {
    wire::Writer w;
    w.u32(static_cast<std::uint32_t>(msgs.size()));
    for (const auto& m : msgs) w.raw(m.mailbox).u16(m.ns).raw(m.hash).u64(m.expiry_ms).var(m.data).var(m.store_auth);
    return w.take();
}

std::vector<StoredMessage> decode_messages(ByteView b) {
    wire::Reader r(b);
    std::uint32_t n = r.u32();
    if (n > kMaxMessagesPerReply || n > r.remaining() / (32 + 2 + 32 + 8 + 4 + 4)) throw wire::DecodeError("peer: bad count");
    std::vector<StoredMessage> out;
    for (std::uint32_t i = 0; i < n; ++i) {
        StoredMessage m;
        m.mailbox = to_array<32>(r.raw(32));
        m.ns = r.u16();
        m.hash = to_array<32>(r.raw(32));
        m.expiry_ms = r.u64();
        auto d = r.var(kMaxDataBytes);
        m.data.assign(d.begin(), d.end());
        auto a = r.var(kMaxStoreAuthBytes);
        m.store_auth.assign(a.begin(), a.end());
        out.push_back(std::move(m));
    }
    r.expect_done();
    return out;
}

}  // namespace veil::proto::node
