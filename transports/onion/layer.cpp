#include "layer.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace veil::onion {
namespace {

// Packet: u8 version | 32 alpha (this hop's ephemeral X25519 key) | beta (kMaxPathNodes routing
// slots, encrypted) | 16 gamma (MAC of version and beta) | payload (to the size bucket).
// Routing slot: u8 kind | u64 created_ms | 32 next node id | u8 address length |
// kMaxAddressBytes address | 32 next alpha | 16 next gamma. Zero padded.
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kResponseNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kSlotBytes = 1 + 8 + 32 + 1 + kMaxAddressBytes + 32 + kMacBytes;
constexpr std::size_t kBetaBytes = kMaxPathNodes * kSlotBytes;
constexpr std::size_t kAlphaAt = 1;
constexpr std::size_t kBetaAt = kAlphaAt + 32;
constexpr std::size_t kGammaAt = kBetaAt + kBetaBytes;
constexpr std::size_t kHeaderBytes = kGammaAt + kMacBytes;
constexpr std::size_t kSmallestBucket = 1u << 10;  // buckets are the powers of two up to 16 MiB
static_assert(kHeaderBytes + kTagBytes + 64 < kSmallestBucket);

// BLAKE2b personalisation strings: exactly 16 bytes each, one per derived key.
constexpr char kHeaderPersonal[] = "veil.onion.hdr_k";
constexpr char kMacPersonal[] = "veil.onion.mac_k";
constexpr char kPayloadPersonal[] = "veil.onion.pay_k";
constexpr char kReplyPersonal[] = "veil.onion.reply";
constexpr char kReturnPersonal[] = "veil.onion.ret_k";
static_assert(sizeof(kHeaderPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);
static_assert(sizeof(kMacPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);
static_assert(sizeof(kPayloadPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);
static_assert(sizeof(kReplyPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);
static_assert(sizeof(kReturnPersonal) == crypto_generichash_blake2b_PERSONALBYTES + 1);

// What a sealed answer holds: the destination's reply, or a relay's failure.
enum class AnswerKind : std::uint8_t { reply = 1, failure = 2 };

// Each key is used for one packet at one hop only, so a fixed nonce is safe.
constexpr std::array<std::uint8_t, crypto_stream_xchacha20_NONCEBYTES> kZeroNonce{};

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

// The five keys one hop shares with the client, from one X25519 exchange.
struct HopKeys {
    StackSecret<32> header, mac, payload, reply, back;
    HopKeys(const std::uint8_t* shared, const Key32& ephemeral_pk, const Key32& node_pk) {
        header.bytes = derive_key(kHeaderPersonal, shared, ephemeral_pk, node_pk);
        mac.bytes = derive_key(kMacPersonal, shared, ephemeral_pk, node_pk);
        payload.bytes = derive_key(kPayloadPersonal, shared, ephemeral_pk, node_pk);
        reply.bytes = derive_key(kReplyPersonal, shared, ephemeral_pk, node_pk);
        back.bytes = derive_key(kReturnPersonal, shared, ephemeral_pk, node_pk);
    }
};

// A time for one hop's slot: now, backdated by its own random amount (see kTimeJitterMs).
std::uint64_t hop_time(std::uint64_t now_ms) {
    std::uint64_t jitter = randombytes_uniform(static_cast<std::uint32_t>(kTimeJitterMs));
    return now_ms > jitter ? now_ms - jitter : 0;
}

// nonce || AEAD(key, u8 kind || var content || zero padding), sized to a bucket.
Bytes seal_answer(const Key32& key, AnswerKind kind, ByteView content) {
    std::size_t total = bucket_size(kResponseNonceBytes + 1 + 4 + content.size() + kTagBytes);
    Bytes pt = wire::Writer{}.u8(static_cast<std::uint8_t>(kind)).var(content).take();
    pt.resize(total - kResponseNonceBytes - kTagBytes, 0);
    Bytes out(total);
    randombytes_buf(out.data(), kResponseNonceBytes);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kResponseNonceBytes, nullptr, pt.data(), pt.size(),
                                               nullptr, 0, nullptr, out.data(), key.data());
    return out;
}

// What seal_answer made under `key`, or nullopt if `key` does not open it.
std::optional<std::pair<AnswerKind, Bytes>> open_sealed_answer(const Key32& key, ByteView blob) {
    if (blob.size() < kResponseNonceBytes + 1 + 4 + kTagBytes) return std::nullopt;
    Bytes pt(blob.size() - kResponseNonceBytes - kTagBytes);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), nullptr, nullptr, blob.data() + kResponseNonceBytes,
                                                   blob.size() - kResponseNonceBytes, nullptr, 0, blob.data(),
                                                   key.data()) != 0) {
        return std::nullopt;
    }
    try {
        wire::Reader r(pt);
        auto kind = static_cast<AnswerKind>(r.u8());
        auto content = r.var(pt.size());
        return std::make_pair(kind, Bytes(content.begin(), content.end()));
    } catch (const wire::DecodeError&) {
        throw LayerError();  // authenticated but malformed: the node that sealed it is broken
    }
}

// The keystream that decrypts beta and refills its tail: one slot longer than beta.
Bytes header_stream(const HopKeys& keys) {
    Bytes stream(kBetaBytes + kSlotBytes);
    crypto_stream_xchacha20(stream.data(), stream.size(), kZeroNonce.data(), keys.header.bytes.data());
    return stream;
}

std::array<std::uint8_t, kMacBytes> header_mac(const HopKeys& keys, const std::uint8_t* beta) {
    std::array<std::uint8_t, kMacBytes> out;
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init(&st, keys.mac.bytes.data(), 32, out.size());
    crypto_generichash_blake2b_update(&st, &kLayerVersion, 1);
    crypto_generichash_blake2b_update(&st, beta, kBetaBytes);
    crypto_generichash_blake2b_final(&st, out.data(), out.size());
    return out;
}

void xor_into(std::uint8_t* out, const std::uint8_t* in, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] ^= in[i];
}

struct Slot {
    LayerKind kind{};
    std::uint64_t created_ms = 0;
    Key32 next_node_id{};
    std::string next_address;
    Key32 next_alpha{};
    std::array<std::uint8_t, kMacBytes> next_gamma{};
};

Bytes encode_slot(const Slot& s) {
    Bytes address(kMaxAddressBytes, 0);
    std::copy(s.next_address.begin(), s.next_address.end(), address.begin());
    Bytes out = wire::Writer{}
                    .u8(static_cast<std::uint8_t>(s.kind))
                    .u64(s.created_ms)
                    .raw(s.next_node_id)
                    .u8(static_cast<std::uint8_t>(s.next_address.size()))
                    .raw(address)
                    .raw(s.next_alpha)
                    .raw(s.next_gamma)
                    .take();
    if (out.size() != kSlotBytes) throw std::logic_error("onion: slot size");
    return out;
}

template <std::size_t N>
void copy_to(std::array<std::uint8_t, N>& out, ByteView in) {
    std::copy(in.begin(), in.end(), out.begin());
}

Slot decode_slot(ByteView bytes) {
    wire::Reader r(bytes);
    Slot s;
    s.kind = static_cast<LayerKind>(r.u8());
    if (s.kind != LayerKind::forward && s.kind != LayerKind::deliver) throw LayerError();
    s.created_ms = r.u64();
    copy_to(s.next_node_id, r.raw(32));
    std::size_t address_size = r.u8();
    auto address = r.raw(kMaxAddressBytes);
    if (address_size > kMaxAddressBytes) throw LayerError();
    s.next_address.assign(address.begin(), address.begin() + static_cast<std::ptrdiff_t>(address_size));
    copy_to(s.next_alpha, r.raw(32));
    copy_to(s.next_gamma, r.raw(kMacBytes));
    r.expect_done();
    return s;
}

// One hop of a path being sealed: its fresh ephemeral key and the keys it will derive.
struct SealingHop {
    Key32 alpha{};
    std::unique_ptr<HopKeys> keys;
    Bytes stream;
    SealingHop(const Key32& node_pk) {
        StackSecret<32> ephemeral_sk, shared;
        crypto_box_keypair(alpha.data(), ephemeral_sk.bytes.data());
        if (crypto_scalarmult(shared.bytes.data(), ephemeral_sk.bytes.data(), node_pk.data()) != 0) {
            throw std::invalid_argument("onion: node key is not a usable X25519 key");
        }
        keys = std::make_unique<HopKeys>(shared.bytes.data(), alpha, node_pk);
        stream = header_stream(*keys);
    }
};

}  // namespace

std::size_t bucket_size(std::size_t n) {
    if (n > kMaxBlobBytes) {
        throw std::length_error("onion: " + std::to_string(n) + " bytes exceed the largest size bucket");
    }
    std::size_t b = kSmallestBucket;
    while (b < n) b <<= 1;
    return b;
}

bool is_bucket_size(std::size_t n) { return n >= kSmallestBucket && n <= kMaxBlobBytes && bucket_size(n) == n; }

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
    const std::size_t n = relays.size() + 1;
    if (n > kMaxPathNodes) throw std::length_error("onion: a path has at most " + std::to_string(kMaxPathNodes - 1) + " relays");
    std::vector<const Hop*> path;
    for (const Hop& h : relays) path.push_back(&h);
    path.push_back(&destination);
    for (std::size_t i = 1; i < n; ++i) {
        if (path[i]->address.size() > kMaxAddressBytes) throw std::length_error("onion: address too long");
    }
    std::vector<SealingHop> hops;
    hops.reserve(n);
    for (const Hop* h : path) hops.emplace_back(h->onion_key);

    // Filler: what the hops before the destination append to beta, as the destination will
    // see it, so that every hop's MAC covers exactly the bytes it receives.
    Bytes filler;
    for (std::size_t j = 0; j + 1 < n; ++j) {
        filler.resize(filler.size() + kSlotBytes, 0);
        xor_into(filler.data(), hops[j].stream.data() + (kMaxPathNodes - j) * kSlotBytes, filler.size());
    }
    // The destination's beta: its slot, random fill, then the filler.
    Bytes beta(kBetaBytes);
    const std::size_t own = kBetaBytes - filler.size();
    Bytes slot = encode_slot({LayerKind::deliver, hop_time(now_ms), {}, {}, {}, {}});
    std::copy(slot.begin(), slot.end(), beta.begin());
    randombytes_buf(beta.data() + kSlotBytes, own - kSlotBytes);
    xor_into(beta.data(), hops[n - 1].stream.data(), own);
    std::copy(filler.begin(), filler.end(), beta.begin() + static_cast<std::ptrdiff_t>(own));
    auto gamma = header_mac(*hops[n - 1].keys, beta.data());
    // Each earlier hop: its slot names the next hop; the rest is the next beta shifted by a slot.
    for (std::size_t i = n - 1; i-- > 0;) {
        Bytes next = encode_slot({LayerKind::forward, hop_time(now_ms), path[i + 1]->node_id, path[i + 1]->address,
                                  hops[i + 1].alpha, gamma});
        next.insert(next.end(), beta.begin(), beta.end() - static_cast<std::ptrdiff_t>(kSlotBytes));
        xor_into(next.data(), hops[i].stream.data(), kBetaBytes);
        beta = std::move(next);
        gamma = header_mac(*hops[i].keys, beta.data());
    }

    // Payload: sealed to the destination, then one stream layer per relay.
    Bytes plain = wire::Writer{}.str(service).var(body).take();
    std::size_t payload_size = bucket_size(kHeaderBytes + plain.size() + kTagBytes) - kHeaderBytes;
    plain.resize(payload_size - kTagBytes, 0);
    Bytes packet = wire::Writer{}.u8(kLayerVersion).raw(hops[0].alpha).raw(beta).raw(gamma).take();
    packet.resize(kHeaderBytes + payload_size);
    std::uint8_t* payload = packet.data() + kHeaderBytes;
    crypto_aead_xchacha20poly1305_ietf_encrypt(payload, nullptr, plain.data(), plain.size(), &kLayerVersion, 1,
                                               nullptr, kZeroNonce.data(), hops[n - 1].keys->payload.bytes.data());
    for (std::size_t i = n - 1; i-- > 0;) {
        crypto_stream_xchacha20_xor(payload, payload, payload_size, kZeroNonce.data(),
                                    hops[i].keys->payload.bytes.data());
    }
    SealedRequest out;
    out.blob = std::move(packet);
    for (std::size_t i = 0; i < n; ++i) {
        out.keys.reply.push_back(hops[i].keys->reply.bytes);
        if (i + 1 < n) out.keys.peel.push_back(hops[i].keys->back.bytes);
    }
    for (auto& h : hops) sodium_memzero(h.stream.data(), h.stream.size());
    return out;
}

OpenedLayer open_layer(ByteView blob, const crypto::KeyAgreement& node_key) {
    if (!is_bucket_size(blob.size())) throw LayerError();
    if (blob[0] != kLayerVersion) throw LayerError();
    try {
        OpenedLayer out;
        copy_to(out.ephemeral_key, blob.subspan(kAlphaAt, 32));
        StackSecret<32> shared;
        if (!node_key.agree(out.ephemeral_key, shared.bytes)) throw LayerError();
        HopKeys keys(shared.bytes.data(), out.ephemeral_key, node_key.public_key());
        auto mac = header_mac(keys, blob.data() + kBetaAt);
        if (sodium_memcmp(mac.data(), blob.data() + kGammaAt, kMacBytes) != 0) throw LayerError();

        // Decrypt beta with one slot of keystream appended: our slot, then the next beta.
        Bytes shifted = header_stream(keys);
        xor_into(shifted.data(), blob.data() + kBetaAt, kBetaBytes);
        Slot slot = decode_slot(ByteView(shifted).first(kSlotBytes));
        out.kind = slot.kind;
        out.created_ms = slot.created_ms;
        out.response_key = keys.reply.bytes;
        ByteView payload = blob.subspan(kHeaderBytes);

        if (slot.kind == LayerKind::forward) {
            out.next_node_id = slot.next_node_id;
            out.next_address = std::move(slot.next_address);
            out.inner = wire::Writer{}
                            .u8(kLayerVersion)
                            .raw(slot.next_alpha)
                            .raw(ByteView(shifted).subspan(kSlotBytes))
                            .raw(slot.next_gamma)
                            .take();
            out.return_key = keys.back.bytes;
            out.inner.resize(blob.size());
            crypto_stream_xchacha20_xor(out.inner.data() + kHeaderBytes, payload.data(), payload.size(),
                                        kZeroNonce.data(), keys.payload.bytes.data());
            return out;
        }
        Bytes plain(payload.size() - kTagBytes);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), nullptr, nullptr, payload.data(), payload.size(),
                                                       &kLayerVersion, 1, kZeroNonce.data(),
                                                       keys.payload.bytes.data()) != 0) {
            throw LayerError();
        }
        wire::Reader p(plain);
        out.service = p.str(kMaxServiceBytes);
        auto body = p.var(kMaxBlobBytes);
        out.body.assign(body.begin(), body.end());
        return out;
    } catch (const wire::DecodeError&) {
        throw LayerError();
    }
}

ReturnKeys::~ReturnKeys() {
    for (auto& k : reply) sodium_memzero(k.data(), k.size());
    for (auto& k : peel) sodium_memzero(k.data(), k.size());
}

Bytes seal_response(const Key32& response_key, ByteView reply) {
    return seal_answer(response_key, AnswerKind::reply, reply);
}

Bytes seal_failure(const Key32& response_key, HopFailure failure) {
    const auto code = static_cast<std::uint8_t>(failure);
    return seal_answer(response_key, AnswerKind::failure, ByteView(&code, 1));
}

void add_return_layer(const Key32& return_key, Bytes& answer) {
    if (answer.empty()) return;
    crypto_stream_xchacha20_xor(answer.data(), answer.data(), answer.size(), kZeroNonce.data(), return_key.data());
}

Answer open_answer(const ReturnKeys& keys, ByteView blob) {
    if (!is_bucket_size(blob.size()) || keys.reply.size() != keys.peel.size() + 1) throw LayerError();
    Bytes peeled(blob.begin(), blob.end());
    for (std::size_t i = 0; i < keys.reply.size(); ++i) {
        const bool destination = i == keys.peel.size();
        // A relay's failure is always the smallest bucket: only then is its key worth trying.
        if (destination || peeled.size() == kSmallestBucket) {
            if (auto opened = open_sealed_answer(keys.reply[i], peeled)) {
                auto& [kind, content] = *opened;
                if (destination && kind == AnswerKind::reply) return {i, std::nullopt, std::move(content)};
                if (destination || kind != AnswerKind::failure || content.size() != 1) throw LayerError();
                auto failure = static_cast<HopFailure>(content[0]);
                if (!sdk::onion::is_valid(failure)) throw LayerError();
                return {i, failure, {}};
            }
        }
        if (!destination) add_return_layer(keys.peel[i], peeled);
    }
    throw LayerError();
}

Bytes open_response(const ReturnKeys& keys, ByteView blob) {
    Answer answer = open_answer(keys, blob);
    if (answer.failure) throw LayerError();
    return std::move(answer.reply);
}

}  // namespace veil::onion
