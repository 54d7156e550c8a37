#include "veil/proto/owner_auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace veil::proto::node {

namespace {

constexpr std::string_view kOwnerDomain = "veil-owner-v1";

struct OwnerView {
    Method method;
    const PublicKey* mailbox;
    std::uint16_t ns;
    OwnerAuth* auth;
    const std::vector<Hash>* hashes = nullptr;
    const std::uint64_t* expiry_ms = nullptr;
    const StoreRequest* store = nullptr;
};

// The owner-signed fields of a body, or nullopt for a body that is not owner-signed.
std::optional<OwnerView> owner_view(RequestBody& body) {
    if (auto* q = std::get_if<StoreRequest>(&body)) {
        if (!q->auth) return std::nullopt;
        return OwnerView{Method::store, &q->mailbox, q->ns, &*q->auth, nullptr, nullptr, q};
    }
    if (auto* q = std::get_if<RetrieveRequest>(&body)) return OwnerView{Method::retrieve, &q->mailbox, q->ns, &q->auth};
    if (auto* q = std::get_if<SubscribeRequest>(&body))
        return OwnerView{Method::subscribe, &q->mailbox, q->ns, &q->auth};
    if (auto* q = std::get_if<DeleteRequest>(&body))
        return OwnerView{Method::remove, &q->mailbox, q->ns, &q->auth, &q->hashes};
    if (auto* q = std::get_if<ExpireRequest>(&body))
        return OwnerView{Method::expire, &q->mailbox, q->ns, &q->auth, &q->hashes, &q->expiry_ms};
    return std::nullopt;
}

Bytes signed_bytes(const OwnerView& v) {
    wire::Writer w;
    w.raw({reinterpret_cast<const std::uint8_t*>(kOwnerDomain.data()), kOwnerDomain.size()});
    w.u8(static_cast<std::uint8_t>(v.method)).raw(*v.mailbox).u16(v.ns).u64(v.auth->timestamp_ms);
    if (v.store) w.u64(v.store->ttl_ms).raw(message_hash(*v.mailbox, v.ns, v.store->data));
    if (v.expiry_ms) w.u64(*v.expiry_ms);
    if (v.hashes) {
        w.u16(static_cast<std::uint16_t>(v.hashes->size()));
        for (const auto& h : *v.hashes) w.raw(h);
    }
    return w.take();
}

// The signature is the owner's: by a key that owns the mailbox, over exactly these fields.
bool signed_by_owner(const OwnerView& v) {
    return owns_mailbox(v.auth->owner, *v.mailbox) &&
           crypto::verify_signature(v.auth->owner, signed_bytes(v), v.auth->signature);
}

}  // namespace

Hash message_hash(const PublicKey& mailbox, std::uint16_t ns, ByteView data) {
    Hash out{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, out.size());
    crypto_generichash_update(&st, mailbox.data(), mailbox.size());
    std::uint8_t ns_be[2] = {static_cast<std::uint8_t>(ns >> 8), static_cast<std::uint8_t>(ns)};
    crypto_generichash_update(&st, ns_be, 2);
    crypto_generichash_update(&st, data.data(), data.size());
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
}

Bytes owner_signed_bytes(const RequestBody& body) {
    auto v = owner_view(const_cast<RequestBody&>(body));
    if (!v) throw std::invalid_argument("request is not owner-signed");
    return signed_bytes(*v);
}

bool owns_mailbox(const PublicKey& owner_ed25519, const PublicKey& mailbox) {
    if (owner_ed25519 == mailbox) return true;
    PublicKey x25519{};
    if (crypto_sign_ed25519_pk_to_curve25519(x25519.data(), owner_ed25519.data()) != 0) return false;
    return sodium_memcmp(x25519.data(), mailbox.data(), x25519.size()) == 0;
}

void sign_owner_request(RequestBody& body, const crypto::SigningKeyPair& owner, std::uint64_t now_ms) {
    if (auto* q = std::get_if<StoreRequest>(&body)) q->auth.emplace();
    auto v = owner_view(body);
    if (!v) throw std::invalid_argument("request is not owner-signed");
    if (!owns_mailbox(owner.pub, *v->mailbox)) throw std::invalid_argument("key is not the mailbox owner");
    v->auth->timestamp_ms = now_ms;
    v->auth->owner = owner.pub;
    v->auth->signature = owner.sign(signed_bytes(*v));
}

ReplayGuard::ReplayGuard(std::uint64_t window_ms, std::size_t max_entries) : window_(window_ms, max_entries) {}

bool ReplayGuard::in_window(std::uint64_t timestamp_ms, std::uint64_t now_ms) const {
    return window_.in_window(timestamp_ms, now_ms);
}

Status ReplayGuard::verify_owner(const RequestBody& body, std::uint64_t now_ms) const {
    auto v = owner_view(const_cast<RequestBody&>(body));
    if (!v) return Status::bad_request;
    if (!in_window(v->auth->timestamp_ms, now_ms)) return Status::clock_out_of_window;
    if (!signed_by_owner(*v)) return Status::bad_signature;
    return Status::ok;
}

Status ReplayGuard::check_owner(const RequestBody& body, std::uint64_t now_ms) {
    if (auto st = verify_owner(body, now_ms); st != Status::ok) return st;
    auto v = owner_view(const_cast<RequestBody&>(body));
    return check_fresh(v->auth->signature, v->auth->timestamp_ms, now_ms);
}

Status ReplayGuard::check_fresh(const Signature& signature, std::uint64_t timestamp_ms, std::uint64_t now_ms) {
    // A signature is unique per signed content, so its digest identifies the message.
    sdk::ReplayWindow::Key key{};
    crypto_generichash(key.data(), key.size(), signature.data(), signature.size(), nullptr, 0);
    switch (window_.admit(key, timestamp_ms, now_ms)) {
        case sdk::ReplayWindow::Verdict::admitted: return Status::ok;
        case sdk::ReplayWindow::Verdict::replayed: return Status::replayed;
        case sdk::ReplayWindow::Verdict::out_of_window: break;
    }
    return Status::clock_out_of_window;
}

Bytes encode_owner_proof(const RequestBody& signed_body) { return encode_request(Request{0, signed_body}); }

bool OwnerChange::covers(const Hash& h) const { return std::find(hashes.begin(), hashes.end(), h) != hashes.end(); }

std::optional<OwnerChange> open_owner_proof(ByteView proof) {
    Request r;
    try {
        r = decode_request(proof);
    } catch (const wire::DecodeError&) {
        return std::nullopt;
    }
    // One encoding per proof (encode_owner_proof writes id 0): the id is not signed, so other ids
    // would be copies of one proof that hash apart and each count against the mailbox's proofs.
    if (r.id != 0) return std::nullopt;
    OwnerChange c;
    if (auto* q = std::get_if<DeleteRequest>(&r.body)) {
        c = OwnerChange{q->mailbox, q->ns, q->hashes, true, 0, q->auth.timestamp_ms};
    } else if (auto* e = std::get_if<ExpireRequest>(&r.body)) {
        c = OwnerChange{e->mailbox, e->ns, e->hashes, false, e->expiry_ms, e->auth.timestamp_ms};
    } else {
        return std::nullopt;
    }
    if (!signed_by_owner(*owner_view(r.body))) return std::nullopt;
    return c;
}

Bytes encode_store_auth(const StoreRequest& q) {
    if (!q.auth) throw std::invalid_argument("store is not owner-signed");
    return wire::Writer{}.u8(kOwnerStoreAuth).u64(q.ttl_ms).u64(q.auth->timestamp_ms).raw(q.auth->owner)
        .raw(q.auth->signature).take();
}

std::optional<OwnerStore> open_store_auth(ByteView auth, const PublicKey& mailbox, std::uint16_t ns, ByteView data) {
    RequestBody body = StoreRequest{mailbox, ns, 0, Bytes(data.begin(), data.end()), OwnerAuth{}};
    auto& q = std::get<StoreRequest>(body);
    try {
        wire::Reader r(auth);
        if (r.u8() != kOwnerStoreAuth) return std::nullopt;
        q.ttl_ms = r.u64();
        q.auth->timestamp_ms = r.u64();
        q.auth->owner = wire::to_array<32>(r.raw(32));
        q.auth->signature = wire::to_array<64>(r.raw(64));
        r.expect_done();
    } catch (const wire::DecodeError&) {
        return std::nullopt;
    }
    if (!signed_by_owner(*owner_view(body))) return std::nullopt;
    return OwnerStore{q.auth->timestamp_ms, q.ttl_ms};
}

}  // namespace veil::proto::node
