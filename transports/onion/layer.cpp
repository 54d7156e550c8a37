#include "layer.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace veil::onion {
namespace {

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kSmallestBucket = 1u << 10;  // buckets are the powers of two up to 16 MiB
// BLAKE2b personalisation strings: exactly 16 bytes each, one per derived key.
constexpr char kLayerPersonal[] = "veil.onion.layer";
constexpr char kReplyPersonal[] = "veil.onion.reply";
static_assert(sizeof(kLayerPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);
static_assert(sizeof(kReplyPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);

// Wipes a stack secret when it goes out of scope.
template <std::size_t N>
struct StackSecret {
    std::array<std::uint8_t, N> bytes{};
    ~StackSecret() { sodium_memzero(bytes.data(), N); }
};

// key = BLAKE2b-256(shared || ephemeral_pk || node_pk), personalised per purpose.
Key32 derive_key(const char* personal, const std::uint8_t* shared, const Key32& ephemeral_pk,
                 const Key32& node_pk) {
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, nullptr, 0, 32, nullptr,
                                                  reinterpret_cast<const unsigned char*>(personal));
    crypto_generichash_blake2b_update(&st, shared, 32);
    crypto_generichash_blake2b_update(&st, ephemeral_pk.data(), 32);
    crypto_generichash_blake2b_update(&st, node_pk.data(), 32);
    Key32 out;
    crypto_generichash_blake2b_final(&st, out.data(), out.size());
    sodium_memzero(&st, sizeof st);
    return out;
}

Bytes header_ad(const Key32& ephemeral_pk) {
    return wire::Writer{}.u8(kLayerVersion).raw(ephemeral_pk).take();
}

// Seals one layer to node_pk. If reply_key is given, also derives the response key.
Bytes seal_layer(const Key32& node_pk, const Bytes& plaintext, Key32* reply_key) {
    Key32 ephemeral_pk;
    StackSecret<32> ephemeral_sk, shared, layer_key;
    crypto_box_keypair(ephemeral_pk.data(), ephemeral_sk.bytes.data());
    if (crypto_scalarmult(shared.bytes.data(), ephemeral_sk.bytes.data(), node_pk.data()) != 0) {
        throw std::invalid_argument("onion: node key is not a usable X25519 key");
    }
    layer_key.bytes = derive_key(kLayerPersonal, shared.bytes.data(), ephemeral_pk, node_pk);
    if (reply_key) *reply_key = derive_key(kReplyPersonal, shared.bytes.data(), ephemeral_pk, node_pk);

    std::array<std::uint8_t, kNonceBytes> nonce;
    randombytes_buf(nonce.data(), nonce.size());
    Bytes ad = header_ad(ephemeral_pk);
    Bytes ct(plaintext.size() + kTagBytes);
    unsigned long long ct_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, plaintext.data(), plaintext.size(),
                                               ad.data(), ad.size(), nullptr, nonce.data(),
                                               layer_key.bytes.data());
    ct.resize(ct_len);
    if (ct.size() > kMaxBlobBytes) throw std::length_error("onion: request too large");
    return wire::Writer{}.raw(ad).raw(nonce).var(ct).take();
}

}  // namespace

std::size_t bucket_size(std::size_t n) {
    if (n > kMaxBlobBytes) {
        throw std::length_error("onion: " + std::to_string(n) + " bytes exceed the largest size bucket");
    }
    std::size_t b = kSmallestBucket;
    while (b < n) b <<= 1;
    return b;
}

void pad_to_bucket(Bytes& blob) {
    // Padding must look random (links carry it in the clear), and the system RNG is slow for
    // bulk bytes, so it is a ChaCha20 keystream under a fresh random key.
    std::size_t old = blob.size();
    blob.resize(bucket_size(old));
    StackSecret<crypto_stream_chacha20_KEYBYTES> key;
    randombytes_buf(key.bytes.data(), key.bytes.size());
    std::array<std::uint8_t, crypto_stream_chacha20_NONCEBYTES> nonce{};
    crypto_stream_chacha20(blob.data() + old, blob.size() - old, nonce.data(), key.bytes.data());
}

SealedRequest seal_request(std::span<const Hop> relays, const Hop& destination,
                           std::string_view service, ByteView body, std::uint64_t now_ms) {
    if (service.size() > kMaxServiceBytes) throw std::length_error("onion: service name too long");
    SealedRequest out;
    Bytes inner = seal_layer(destination.onion_key,
                             wire::Writer{}
                                 .u8(static_cast<std::uint8_t>(LayerKind::deliver))
                                 .u64(now_ms)
                                 .str(service)
                                 .var(body)
                                 .take(),
                             &out.response_key);
    for (std::size_t i = relays.size(); i-- > 0;) {
        const Hop& next = i + 1 < relays.size() ? relays[i + 1] : destination;
        if (next.address.size() > kMaxAddressBytes) throw std::length_error("onion: address too long");
        inner = seal_layer(relays[i].onion_key,
                           wire::Writer{}
                               .u8(static_cast<std::uint8_t>(LayerKind::forward))
                               .u64(now_ms)
                               .raw(next.node_id)
                               .str(next.address)
                               .var(inner)
                               .take(),
                           nullptr);
    }
    pad_to_bucket(inner);
    out.blob = std::move(inner);
    return out;
}

OpenedLayer open_layer(ByteView blob, std::span<const std::uint8_t, 32> node_secret_key,
                       const Key32& node_public_key) {
    if (blob.size() > kMaxBlobBytes) throw LayerError();
    try {
        wire::Reader r(blob);
        if (r.u8() != kLayerVersion) throw LayerError();
        OpenedLayer out;
        auto eph = r.raw(32);
        std::copy(eph.begin(), eph.end(), out.ephemeral_key.begin());
        auto nonce = r.raw(kNonceBytes);
        auto ct = r.var(kMaxBlobBytes);  // what follows is bucket padding
        if (ct.size() < kTagBytes) throw LayerError();

        StackSecret<32> shared, layer_key;
        if (crypto_scalarmult(shared.bytes.data(), node_secret_key.data(), out.ephemeral_key.data()) != 0) {
            throw LayerError();
        }
        layer_key.bytes = derive_key(kLayerPersonal, shared.bytes.data(), out.ephemeral_key, node_public_key);
        Bytes ad = header_ad(out.ephemeral_key);
        Bytes pt(ct.size() - kTagBytes);
        unsigned long long pt_len = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), &pt_len, nullptr, ct.data(), ct.size(),
                                                       ad.data(), ad.size(), nonce.data(),
                                                       layer_key.bytes.data()) != 0) {
            throw LayerError();
        }

        wire::Reader p(pt);
        out.kind = static_cast<LayerKind>(p.u8());
        out.created_ms = p.u64();
        if (out.kind == LayerKind::forward) {
            auto id = p.raw(32);
            std::copy(id.begin(), id.end(), out.next_node_id.begin());
            out.next_address = p.str(kMaxAddressBytes);
            auto inner = p.var(kMaxBlobBytes);
            p.expect_done();
            // Reuse the plaintext buffer for the inner layer instead of copying it.
            auto offset = static_cast<std::ptrdiff_t>(inner.data() - pt.data());
            std::size_t inner_size = inner.size();
            pt.erase(pt.begin(), pt.begin() + offset);
            pt.resize(inner_size);
            out.inner = std::move(pt);
            return out;
        } else if (out.kind == LayerKind::deliver) {
            out.service = p.str(kMaxServiceBytes);
            auto body = p.var(kMaxBlobBytes);
            out.body.assign(body.begin(), body.end());
            out.response_key = derive_key(kReplyPersonal, shared.bytes.data(), out.ephemeral_key, node_public_key);
        } else {
            throw LayerError();
        }
        p.expect_done();
        return out;
    } catch (const wire::DecodeError&) {
        throw LayerError();
    }
}

Bytes seal_response(const Key32& response_key, ByteView reply) {
    // nonce || AEAD(u32 length || reply || zero padding), sized to a bucket.
    std::size_t total = bucket_size(kNonceBytes + 4 + reply.size() + kTagBytes);
    Bytes pt = wire::Writer{}.var(reply).take();
    pt.resize(total - kNonceBytes - kTagBytes, 0);
    Bytes out(total);
    randombytes_buf(out.data(), kNonceBytes);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonceBytes, nullptr, pt.data(), pt.size(),
                                               nullptr, 0, nullptr, out.data(), response_key.data());
    return out;
}

Bytes open_response(const Key32& response_key, ByteView blob) {
    if (blob.size() < kNonceBytes + 4 + kTagBytes || blob.size() > kMaxBlobBytes) throw LayerError();
    Bytes pt(blob.size() - kNonceBytes - kTagBytes);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), nullptr, nullptr, blob.data() + kNonceBytes,
                                                   blob.size() - kNonceBytes, nullptr, 0, blob.data(),
                                                   response_key.data()) != 0) {
        throw LayerError();
    }
    try {
        wire::Reader r(pt);
        auto reply = r.var(pt.size());
        return {reply.begin(), reply.end()};
    } catch (const wire::DecodeError&) {
        throw LayerError();
    }
}

}  // namespace veil::onion
