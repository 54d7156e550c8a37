#include "veil/crypto/envelope.hpp"

#include <sodium.h>

#include <algorithm>

#include "internal.hpp"
#include "veil/crypto/hkdf.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t envelope_version = 1;
constexpr std::uint8_t content_version = 1;
constexpr std::string_view seal_info = "Veil_SealedSender_v1";
constexpr std::size_t tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t overhead = 32 + tag;  // ephemeral key + tag

struct SealKeys {
    std::uint8_t bytes[56];
    ~SealKeys() { sodium_memzero(bytes, sizeof bytes); }
};

void seal_keys(const SecretBytes& shared, const PublicKey& eph, const PublicKey& recipient, SealKeys& k) {
    std::uint8_t salt[64];
    std::copy(eph.begin(), eph.end(), salt);
    std::copy(recipient.begin(), recipient.end(), salt + 32);
    detail::hkdf_into(shared.view(), salt, label(seal_info), k.bytes);
}

bool is_bucket(std::size_t n) {
    return std::find(envelope_buckets.begin(), envelope_buckets.end(), n) != envelope_buckets.end();
}

// Associated data binds the routing fields a node sees to the sealed content.
Bytes routing_ad(const PublicKey& mailbox, std::uint16_t ns, std::uint64_t ttl_ms) {
    wire::Writer w;
    w.u8(envelope_version).raw(mailbox).u16(ns).u64(ttl_ms);
    return w.take();
}

}  // namespace

Bytes SealedEnvelope::encode() const {
    wire::Writer w;
    w.u8(envelope_version).raw(mailbox).u16(namespace_id).u64(ttl_ms).var(ciphertext);
    return w.take();
}

SealedEnvelope SealedEnvelope::decode(ByteView bytes) {
    return detail::decoding("sealed envelope", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, envelope_version, "sealed envelope");
        SealedEnvelope e;
        e.mailbox = detail::read_key(r);
        e.namespace_id = r.u16();
        e.ttl_ms = r.u64();
        if (e.ttl_ms == 0 || e.ttl_ms > max_envelope_ttl_ms) throw wire::DecodeError("TTL out of range");
        auto ct = r.var(envelope_buckets.back());
        if (!is_bucket(ct.size())) throw wire::DecodeError("ciphertext size is not a padding bucket");
        e.ciphertext.assign(ct.begin(), ct.end());
        r.expect_done();
        return e;
    });
}

SealedEnvelope seal(const DeviceCertificate& sender, ByteView message, const PublicKey& recipient_dh_key,
                    const PublicKey& mailbox, std::uint16_t namespace_id, std::uint64_t ttl_ms) {
    ensure_sodium();
    if (ttl_ms == 0 || ttl_ms > max_envelope_ttl_ms) {
        throw Error(ErrorKind::invalid_argument, "TTL must be between 1 ms and 14 days");
    }
    wire::Writer inner;
    inner.u8(content_version).var(sender.encode()).var(message);
    Bytes content = inner.take();
    // The smallest bucket that fits content + at least one padding byte.
    auto bucket = std::find_if(envelope_buckets.begin(), envelope_buckets.end(),
                               [&](std::size_t b) { return b >= content.size() + 1 + overhead; });
    if (bucket == envelope_buckets.end()) throw Error(ErrorKind::too_large, "envelope content above 1 MiB");
    const std::size_t padded_len = *bucket - overhead;
    std::size_t unpadded = content.size();
    content.resize(padded_len);
    std::size_t out_len = 0;
    sodium_pad(&out_len, content.data(), unpadded, padded_len, padded_len);

    auto eph = DhKeyPair::generate();
    auto shared = dh(eph.sec, recipient_dh_key);
    SealKeys k;
    seal_keys(shared, eph.pub, recipient_dh_key, k);
    SealedEnvelope e{mailbox, namespace_id, ttl_ms, Bytes(*bucket)};
    std::copy(eph.pub.begin(), eph.pub.end(), e.ciphertext.begin());
    Bytes ad = routing_ad(mailbox, namespace_id, ttl_ms);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(e.ciphertext.data() + 32, &len, content.data(), content.size(),
                                               ad.data(), ad.size(), nullptr, k.bytes + 32, k.bytes);
    return e;
}

OpenedEnvelope open(const SealedEnvelope& envelope, const DhKeyPair& recipient) {
    const auto& ct = envelope.ciphertext;
    if (ct.size() < overhead + 1) throw Error(ErrorKind::malformed, "sealed envelope too short");
    PublicKey eph = to_public_key(ByteView{ct.data(), 32});
    auto shared = dh(recipient.sec, eph);
    SealKeys k;
    seal_keys(shared, eph, recipient.pub, k);
    Bytes ad = routing_ad(envelope.mailbox, envelope.namespace_id, envelope.ttl_ms);
    Bytes content(ct.size() - overhead);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(content.data(), &len, nullptr, ct.data() + 32, ct.size() - 32,
                                                   ad.data(), ad.size(), k.bytes + 32, k.bytes) != 0) {
        throw Error(ErrorKind::decrypt_failed, "sealed envelope does not open with this key");
    }
    std::size_t unpadded = 0;
    if (sodium_unpad(&unpadded, content.data(), content.size(), content.size()) != 0) {
        throw Error(ErrorKind::malformed, "sealed envelope padding is invalid");
    }
    return detail::decoding("sealed content", [&] {
        wire::Reader r(ByteView{content.data(), unpadded});
        detail::expect_version(r, content_version, "sealed content");
        OpenedEnvelope o;
        o.sender = DeviceCertificate::decode(r.var(512));
        auto m = r.var(envelope_buckets.back());
        o.message.assign(m.begin(), m.end());
        r.expect_done();
        return o;
    });
}

}  // namespace veil::crypto
