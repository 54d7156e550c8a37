#include "veil/crypto/ratchet.hpp"

#include <sodium.h>

#include <cstring>

#include "internal.hpp"
#include "veil/crypto/hkdf.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t header_version = 1;
constexpr std::uint8_t state_version = 1;
constexpr std::size_t max_ad_bytes = 1024;
constexpr std::string_view root_info = "Veil_Ratchet_RootKey_v1";
constexpr std::string_view message_info = "Veil_Ratchet_MessageKey_v1";
constexpr std::size_t aead_tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// Offsets of the four secrets in the 128-byte guarded block.
constexpr std::size_t rk_off = 0;
constexpr std::size_t cks_off = 32;
constexpr std::size_t ckr_off = 64;
constexpr std::size_t dhs_off = 96;

// KDF_RK: (RK, CK) = HKDF(salt = RK, ikm = dh_out, info) split in two.
void kdf_rk(std::uint8_t* rk, std::uint8_t* ck_out, const std::uint8_t* dh_out) {
    std::uint8_t out[64];
    detail::hkdf_into(ByteView{dh_out, 32}, ByteView{rk, 32}, label(root_info), out);
    std::memcpy(rk, out, 32);
    std::memcpy(ck_out, out + 32, 32);
    sodium_memzero(out, sizeof out);
}

// KDF_CK: MK = HMAC(CK, 0x01), CK' = HMAC(CK, 0x02).
void kdf_ck(std::uint8_t* ck, std::uint8_t* mk) {
    const std::uint8_t one = 0x01;
    const std::uint8_t two = 0x02;
    crypto_auth_hmacsha256(mk, &one, 1, ck);
    crypto_auth_hmacsha256(ck, &two, 1, ck);
}

// Associated data of the AEAD: session AD || encoded header.
Bytes aead_ad(const Bytes& ad, const Bytes& header) {
    Bytes out;
    out.reserve(ad.size() + header.size());
    out.insert(out.end(), ad.begin(), ad.end());
    out.insert(out.end(), header.begin(), header.end());
    return out;
}

// Message key -> 32-byte AEAD key || 24-byte nonce.
struct MessageKeys {
    std::uint8_t bytes[56];
    ~MessageKeys() { sodium_memzero(bytes, sizeof bytes); }
};

void message_keys(const std::uint8_t* mk, MessageKeys& out) {
    detail::hkdf_into(ByteView{mk, 32}, {}, label(message_info), out.bytes);
}

Bytes seal(const std::uint8_t* mk, const Bytes& aad, ByteView plaintext) {
    MessageKeys k;
    message_keys(mk, k);
    Bytes ct(plaintext.size() + aead_tag);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, plaintext.data(), plaintext.size(),
                                               aad.data(), aad.size(), nullptr, k.bytes + 32, k.bytes);
    return ct;
}

// Plaintext lands in out only when the message authenticates.
bool open_with(const std::uint8_t* mk, const Bytes& aad, const Bytes& ct, Bytes& out) {
    if (ct.size() < aead_tag) return false;
    MessageKeys k;
    message_keys(mk, k);
    Bytes pt(ct.size() - aead_tag);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), &len, nullptr, ct.data(), ct.size(),
                                                   aad.data(), aad.size(), k.bytes + 32, k.bytes) != 0) {
        return false;
    }
    out = std::move(pt);
    return true;
}

// X25519 into a 32-byte buffer; a low-order public key is Error{weak_key}.
void dh_into(std::uint8_t* out, const std::uint8_t* sec, const PublicKey& pub) {
    if (crypto_scalarmult(out, sec, pub.data()) != 0) {
        throw Error(ErrorKind::weak_key, "x25519: public key of low order");
    }
}

// Secrets of a trial decrypt, on the stack (no guarded allocation per message) and wiped.
struct TrialKeys {
    std::uint8_t bytes[128];
    std::uint8_t dh_out[32];
    ~TrialKeys() {
        sodium_memzero(bytes, sizeof bytes);
        sodium_memzero(dh_out, sizeof dh_out);
    }
};

}  // namespace

Bytes RatchetHeader::encode() const {
    wire::Writer w;
    w.u8(header_version).raw(dh).u32(pn).u32(n);
    return w.take();
}

RatchetHeader RatchetHeader::decode(ByteView bytes) {
    return detail::decoding("ratchet header", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, header_version, "ratchet header");
        RatchetHeader h;
        h.dh = detail::read_key(r);
        h.pn = r.u32();
        h.n = r.u32();
        r.expect_done();
        return h;
    });
}

Bytes RatchetMessage::encode() const {
    wire::Writer w;
    w.raw(header.encode()).var(ciphertext);
    return w.take();
}

RatchetMessage RatchetMessage::decode(ByteView bytes) {
    return detail::decoding("ratchet message", [&] {
        wire::Reader r(bytes);
        RatchetMessage m;
        m.header = RatchetHeader::decode(r.raw(RatchetHeader::encoded_bytes));
        auto ct = r.var(max_ciphertext_bytes);
        if (ct.size() < aead_tag) throw wire::DecodeError("ciphertext shorter than its tag");
        m.ciphertext.assign(ct.begin(), ct.end());
        r.expect_done();
        return m;
    });
}

// The part of the state a decrypt may change, copied so a failure changes nothing.
struct RatchetSession::Chains {
    TrialKeys& keys;
    PublicKey dhs_pub{};
    PublicKey dhr{};
    bool has_dhr, has_cks, has_ckr;
    std::uint32_t ns, nr, pn;
};

RatchetSession RatchetSession::initiate(const SecretBytes& shared_key, Bytes associated_data,
                                        const PublicKey& their_ratchet_key) {
    if (shared_key.size() != 32) throw Error(ErrorKind::invalid_argument, "shared key must be 32 bytes");
    RatchetSession s;
    s.ad_ = std::move(associated_data);
    auto dhs = DhKeyPair::generate();
    std::memcpy(s.keys_.data() + dhs_off, dhs.sec.data(), 32);
    s.dhs_pub_ = dhs.pub;
    s.dhr_ = their_ratchet_key;
    s.has_dhr_ = true;
    std::memcpy(s.keys_.data() + rk_off, shared_key.data(), 32);
    kdf_rk(s.keys_.data() + rk_off, s.keys_.data() + cks_off, dh(dhs.sec, their_ratchet_key).data());
    s.has_cks_ = true;
    return s;
}

RatchetSession RatchetSession::respond(const SecretBytes& shared_key, Bytes associated_data,
                                       DhKeyPair our_ratchet_key) {
    if (shared_key.size() != 32) throw Error(ErrorKind::invalid_argument, "shared key must be 32 bytes");
    RatchetSession s;
    s.ad_ = std::move(associated_data);
    std::memcpy(s.keys_.data() + dhs_off, our_ratchet_key.sec.data(), 32);
    s.dhs_pub_ = our_ratchet_key.pub;
    std::memcpy(s.keys_.data() + rk_off, shared_key.data(), 32);
    return s;
}

RatchetMessage RatchetSession::encrypt(ByteView plaintext) {
    if (!has_cks_) throw Error(ErrorKind::no_session, "ratchet cannot send before it has received");
    if (ns_ == UINT32_MAX) throw Error(ErrorKind::too_large, "sending chain exhausted");
    if (plaintext.size() + aead_tag > RatchetMessage::max_ciphertext_bytes) {
        throw Error(ErrorKind::too_large, "ratchet message above 1 MiB");
    }
    std::uint8_t mk[32];
    kdf_ck(keys_.data() + cks_off, mk);
    RatchetMessage m;
    m.header = RatchetHeader{dhs_pub_, pn_, ns_};
    ++ns_;
    m.ciphertext = seal(mk, aead_ad(ad_, m.header.encode()), plaintext);
    sodium_memzero(mk, sizeof mk);
    return m;
}

Bytes RatchetSession::decrypt(const RatchetMessage& message, std::uint64_t now_ms) {
    const auto& h = message.header;
    const Bytes aad = aead_ad(ad_, h.encode());
    Bytes plaintext;

    // A key skipped earlier: use it once, then forget it.
    if (auto idx = find_skipped(h.dh, h.n); idx >= 0) {
        if (!open_with(skipped_keys_.data() + idx * 32, aad, message.ciphertext, plaintext)) {
            throw Error(ErrorKind::decrypt_failed, "ratchet message does not authenticate");
        }
        remove_skipped(static_cast<std::size_t>(idx));
        expire_skipped(now_ms);
        received_ = true;
        return plaintext;
    }

    const bool new_chain = !has_dhr_ || sodium_memcmp(h.dh.data(), dhr_.data(), 32) != 0;
    std::size_t skip_old = 0;
    std::uint32_t start = 0;
    if (new_chain) {
        if (has_ckr_ && h.pn > nr_) skip_old = h.pn - nr_;
    } else {
        if (h.n < nr_) throw Error(ErrorKind::duplicate_message, "message key already used or dropped");
        start = nr_;
    }
    const std::size_t skip_new = h.n - start;
    if (skip_old > max_skip || skip_new > max_skip) {
        throw Error(ErrorKind::too_many_skipped, "message would skip more than MAX_SKIP keys");
    }

    TrialKeys trial;
    std::memcpy(trial.bytes, keys_.data(), sizeof trial.bytes);
    Chains t{trial, dhs_pub_, dhr_, has_dhr_, has_cks_, has_ckr_, ns_, nr_, pn_};
    std::vector<Skipped> fresh;
    SecretBytes fresh_keys((skip_old + skip_new) * 32);  // empty (no allocation) when nothing is skipped
    auto skip_until = [&](std::uint32_t until) {
        for (; t.nr < until; ++t.nr) {
            kdf_ck(t.keys.bytes + ckr_off, fresh_keys.data() + fresh.size() * 32);
            fresh.push_back(Skipped{t.dhr, t.nr, now_ms});
        }
    };
    if (new_chain) {
        if (t.has_ckr) skip_until(h.pn);
        t.pn = t.ns;
        t.ns = 0;
        t.nr = 0;
        t.dhr = h.dh;
        t.has_dhr = true;
        dh_into(t.keys.dh_out, t.keys.bytes + dhs_off, t.dhr);
        kdf_rk(t.keys.bytes + rk_off, t.keys.bytes + ckr_off, t.keys.dh_out);
        t.has_ckr = true;
        randombytes_buf(t.keys.bytes + dhs_off, 32);  // the next ratchet key pair
        crypto_scalarmult_base(t.dhs_pub.data(), t.keys.bytes + dhs_off);
        dh_into(t.keys.dh_out, t.keys.bytes + dhs_off, t.dhr);
        kdf_rk(t.keys.bytes + rk_off, t.keys.bytes + cks_off, t.keys.dh_out);
        t.has_cks = true;
    }
    skip_until(h.n);
    std::uint8_t mk[32];
    kdf_ck(t.keys.bytes + ckr_off, mk);
    ++t.nr;
    bool ok = open_with(mk, aad, message.ciphertext, plaintext);
    sodium_memzero(mk, sizeof mk);
    if (!ok) throw Error(ErrorKind::decrypt_failed, "ratchet message does not authenticate");

    // Commit.
    std::memcpy(keys_.data(), trial.bytes, sizeof trial.bytes);
    dhs_pub_ = t.dhs_pub;
    dhr_ = t.dhr;
    has_dhr_ = t.has_dhr;
    has_cks_ = t.has_cks;
    has_ckr_ = t.has_ckr;
    ns_ = t.ns;
    nr_ = t.nr;
    pn_ = t.pn;
    received_ = true;
    for (std::size_t i = 0; i < fresh.size(); ++i) add_skipped(fresh[i], fresh_keys.data() + i * 32);
    expire_skipped(now_ms);
    return plaintext;
}

std::ptrdiff_t RatchetSession::find_skipped(const PublicKey& dh_key, std::uint32_t n) const {
    for (std::size_t i = 0; i < skipped_.size(); ++i) {
        if (skipped_[i].n == n && skipped_[i].dh == dh_key) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
}

void RatchetSession::remove_skipped(std::size_t index) {
    std::uint8_t* base = skipped_keys_.data();
    std::memmove(base + index * 32, base + (index + 1) * 32, (skipped_.size() - index - 1) * 32);
    sodium_memzero(base + (skipped_.size() - 1) * 32, 32);
    skipped_.erase(skipped_.begin() + static_cast<std::ptrdiff_t>(index));
}

void RatchetSession::add_skipped(const Skipped& s, const std::uint8_t* key) {
    if (skipped_.size() == max_skipped_keys) remove_skipped(0);  // the oldest
    if ((skipped_.size() + 1) * 32 > skipped_keys_.size()) {
        std::size_t cap = std::min(max_skipped_keys, std::max<std::size_t>(32, skipped_.size() * 2));
        SecretBytes grown(cap * 32);
        if (!skipped_.empty()) std::memcpy(grown.data(), skipped_keys_.data(), skipped_.size() * 32);
        skipped_keys_ = std::move(grown);
    }
    std::memcpy(skipped_keys_.data() + skipped_.size() * 32, key, 32);
    skipped_.push_back(s);
}

void RatchetSession::expire_skipped(std::uint64_t now_ms) {
    for (std::size_t i = skipped_.size(); i-- > 0;) {
        if (skipped_[i].stored_ms + skipped_key_ttl_ms <= now_ms) remove_skipped(i);
    }
}

SecretBytes RatchetSession::serialize() const {
    std::size_t size = 1 + 4 + ad_.size() + 1 + 32 + 32 + 128 + 12 + 4 + skipped_.size() * (32 + 4 + 8 + 32);
    SecretBytes out(size);
    detail::SecretWriter w(out);
    std::uint8_t flags = static_cast<std::uint8_t>((has_dhr_ ? 1 : 0) | (has_cks_ ? 2 : 0) |
                                                   (has_ckr_ ? 4 : 0) | (received_ ? 8 : 0));
    w.u8(state_version).var(ad_).u8(flags).raw(dhs_pub_).raw(dhr_).raw(keys_.view());
    w.u32(ns_).u32(nr_).u32(pn_).u32(static_cast<std::uint32_t>(skipped_.size()));
    for (std::size_t i = 0; i < skipped_.size(); ++i) {
        w.raw(skipped_[i].dh).u32(skipped_[i].n).u64(skipped_[i].stored_ms);
        w.raw(ByteView{skipped_keys_.data() + i * 32, 32});
    }
    return out;
}

RatchetSession RatchetSession::deserialize(ByteView bytes) {
    return detail::decoding("ratchet state", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, state_version, "ratchet state");
        RatchetSession s;
        auto ad = r.var(max_ad_bytes);
        s.ad_.assign(ad.begin(), ad.end());
        std::uint8_t flags = r.u8();
        if (flags & ~0x0f) throw wire::DecodeError("unknown state flags");
        s.has_dhr_ = flags & 1;
        s.has_cks_ = flags & 2;
        s.has_ckr_ = flags & 4;
        s.received_ = flags & 8;
        s.dhs_pub_ = detail::read_key(r);
        s.dhr_ = detail::read_key(r);
        auto keys = r.raw(128);
        std::memcpy(s.keys_.data(), keys.data(), 128);
        PublicKey check{};
        crypto_scalarmult_base(check.data(), s.keys_.data() + dhs_off);
        if (check != s.dhs_pub_) throw wire::DecodeError("ratchet key pair does not match");
        s.ns_ = r.u32();
        s.nr_ = r.u32();
        s.pn_ = r.u32();
        std::uint32_t count = r.u32();
        if (count > max_skipped_keys) throw wire::DecodeError("too many skipped keys");
        for (std::uint32_t i = 0; i < count; ++i) {
            Skipped k;
            k.dh = detail::read_key(r);
            k.n = r.u32();
            k.stored_ms = r.u64();
            auto key = r.raw(32);
            if (s.find_skipped(k.dh, k.n) >= 0) throw wire::DecodeError("skipped key listed twice");
            s.add_skipped(k, key.data());
        }
        r.expect_done();
        return s;
    });
}

RatchetSession RatchetSession::clone() const {
    RatchetSession s;
    s.ad_ = ad_;
    s.keys_ = keys_.clone();
    s.dhs_pub_ = dhs_pub_;
    s.dhr_ = dhr_;
    s.has_dhr_ = has_dhr_;
    s.has_cks_ = has_cks_;
    s.has_ckr_ = has_ckr_;
    s.received_ = received_;
    s.ns_ = ns_;
    s.nr_ = nr_;
    s.pn_ = pn_;
    s.skipped_ = skipped_;
    s.skipped_keys_ = skipped_keys_.clone();
    return s;
}

}  // namespace veil::crypto
