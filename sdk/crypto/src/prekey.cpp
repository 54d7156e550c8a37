#include "veil/crypto/prekey.hpp"

#include <algorithm>

#include <sodium.h>

#include "internal.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t bundle_version = 1;
constexpr std::uint8_t store_version = 2;  // 1: no used_ms per one-time key
constexpr std::string_view spk_label = "Veil_SignedPreKey_v1";
constexpr std::string_view otpk_label = "Veil_OneTimePreKey_v1";

Bytes spk_signed_part(const SignedPreKey& k, const PublicKey& device) {
    auto w = detail::signed_writer(spk_label);
    w.raw(device).u32(k.id).raw(k.key).u64(k.expires_ms);
    return w.take();
}

Bytes otpk_signed_part(const OneTimePreKey& k, const PublicKey& device) {
    auto w = detail::signed_writer(otpk_label);
    w.raw(device).u32(k.id).raw(k.key);
    return w.take();
}

void write_spk(wire::Writer& w, const SignedPreKey& k) {
    w.u32(k.id).raw(k.key).u64(k.expires_ms).raw(k.signature);
}

SignedPreKey read_spk(wire::Reader& r) {
    SignedPreKey k;
    k.id = r.u32();
    k.key = detail::read_key(r);
    k.expires_ms = r.u64();
    k.signature = detail::read_signature(r);
    return k;
}

void write_otpk(wire::Writer& w, const OneTimePreKey& k) { w.u32(k.id).raw(k.key).raw(k.signature); }

OneTimePreKey read_otpk(wire::Reader& r) {
    OneTimePreKey k;
    k.id = r.u32();
    k.key = detail::read_key(r);
    k.signature = detail::read_signature(r);
    return k;
}

}  // namespace

void PreKeyBundle::verify(const VeilId& id, std::uint64_t now_ms) const {
    certificate.verify(id);
    const auto& device = certificate.device_signing_key;
    if (!verify_signature(device, spk_signed_part(signed_prekey, device), signed_prekey.signature)) {
        throw Error(ErrorKind::bad_signature, "signed pre-key signature does not verify");
    }
    if (signed_prekey.expires_ms <= now_ms) {
        throw Error(ErrorKind::expired, "signed pre-key expired");
    }
    for (const auto& k : one_time_prekeys) {
        if (!verify_signature(device, otpk_signed_part(k, device), k.signature)) {
            throw Error(ErrorKind::bad_signature,
                        "one-time pre-key " + std::to_string(k.id) + " signature does not verify");
        }
    }
}

void PreKeyBundle::verify(const VeilId& id, const DeviceList& list, std::uint64_t now_ms) const {
    verify(id, now_ms);
    certificate.verify(id, list);
}

Bytes PreKeyBundle::encode() const {
    wire::Writer w;
    w.u8(bundle_version).var(certificate.encode());
    write_spk(w, signed_prekey);
    w.u16(static_cast<std::uint16_t>(one_time_prekeys.size()));
    for (const auto& k : one_time_prekeys) write_otpk(w, k);
    return w.take();
}

PreKeyBundle PreKeyBundle::decode(ByteView bytes) {
    return detail::decoding("pre-key bundle", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, bundle_version, "pre-key bundle");
        PreKeyBundle b;
        b.certificate = DeviceCertificate::decode(r.var(512));
        b.signed_prekey = read_spk(r);
        std::uint16_t n = r.u16();
        if (n > max_one_time_keys) throw wire::DecodeError("too many one-time pre-keys");
        for (std::uint16_t i = 0; i < n; ++i) b.one_time_prekeys.push_back(read_otpk(r));
        r.expect_done();
        return b;
    });
}

SignedPreKey PreKeyStore::rotate_signed_prekey(const DeviceKeys& device, std::uint64_t now_ms,
                                               std::uint64_t lifetime_ms) {
    Signed s{{}, DhKeyPair::generate()};
    s.pub.id = next_signed_id_++;
    s.pub.key = s.pair.pub;
    s.pub.expires_ms = now_ms + lifetime_ms;
    s.pub.signature = device.sign(spk_signed_part(s.pub, device.signing_key()));
    signed_.push_back(std::move(s));
    expire(now_ms);
    return signed_.back().pub;
}

std::vector<OneTimePreKey> PreKeyStore::generate_one_time_prekeys(const DeviceKeys& device,
                                                                  std::size_t count) {
    std::vector<OneTimePreKey> out;
    for (std::size_t i = 0; i < count; ++i) {
        OneTime k{{}, DhKeyPair::generate()};
        k.pub.id = next_one_time_id_++;
        k.pub.key = k.pair.pub;
        k.pub.signature = device.sign(otpk_signed_part(k.pub, device.signing_key()));
        out.push_back(k.pub);
        one_time_.emplace(k.pub.id, std::move(k));
    }
    return out;
}

PreKeyBundle PreKeyStore::bundle(const DeviceCertificate& cert, std::size_t max_one_time) const {
    if (signed_.empty()) throw Error(ErrorKind::no_prekey, "no signed pre-key yet");
    PreKeyBundle b;
    b.certificate = cert;
    b.signed_prekey = signed_.back().pub;
    max_one_time = std::min(max_one_time, PreKeyBundle::max_one_time_keys);
    for (const auto& [id, k] : one_time_) {
        if (b.one_time_prekeys.size() >= max_one_time) break;
        if (k.used_ms == 0) b.one_time_prekeys.push_back(k.pub);
    }
    return b;
}

const DhKeyPair& PreKeyStore::signed_prekey(std::uint32_t id) const {
    for (const auto& s : signed_) {
        if (s.pub.id == id) return s.pair;
    }
    throw Error(ErrorKind::no_prekey, "signed pre-key " + std::to_string(id) + " is not held");
}

const DhKeyPair& PreKeyStore::one_time_prekey(std::uint32_t id) const {
    auto it = one_time_.find(id);
    if (it == one_time_.end()) {
        throw Error(ErrorKind::no_prekey, "one-time pre-key " + std::to_string(id) + " unknown or used");
    }
    return it->second.pair;
}

void PreKeyStore::consume_one_time_prekey(std::uint32_t id, std::uint64_t now_ms) {
    auto it = one_time_.find(id);
    if (it != one_time_.end() && it->second.used_ms == 0) it->second.used_ms = std::max<std::uint64_t>(now_ms, 1);
}

std::size_t PreKeyStore::one_time_count() const {
    return static_cast<std::size_t>(
        std::count_if(one_time_.begin(), one_time_.end(), [](const auto& e) { return e.second.used_ms == 0; }));
}

void PreKeyStore::expire(std::uint64_t now_ms) {
    std::erase_if(one_time_, [now_ms](const auto& e) {
        return e.second.used_ms != 0 && e.second.used_ms + used_one_time_grace_ms <= now_ms;
    });
    // Keep the newest; drop older ones once their expiry plus grace has passed.
    while (signed_.size() > 1 &&
           signed_.front().pub.expires_ms + signed_prekey_grace_ms <= now_ms) {
        signed_.erase(signed_.begin());
    }
}

SecretBytes PreKeyStore::serialize() const {
    wire::Writer w;
    w.u8(store_version).u32(next_signed_id_).u32(next_one_time_id_);
    w.u32(static_cast<std::uint32_t>(signed_.size()));
    for (const auto& s : signed_) {
        write_spk(w, s.pub);
        w.raw(s.pair.sec.view());
    }
    w.u32(static_cast<std::uint32_t>(one_time_.size()));
    for (const auto& [id, k] : one_time_) {
        write_otpk(w, k.pub);
        w.raw(k.pair.sec.view());
        w.u64(k.used_ms);
    }
    Bytes plain = w.take();
    auto out = SecretBytes::copy_of(plain);
    sodium_memzero(plain.data(), plain.size());  // the writer's buffer held secrets
    return out;
}

PreKeyStore PreKeyStore::deserialize(ByteView bytes) {
    return detail::decoding("pre-key store", [&] {
        wire::Reader r(bytes);
        const std::uint8_t version = r.u8();
        if (version != 1 && version != store_version) {
            throw Error(ErrorKind::malformed, "pre-key store: unsupported version " + std::to_string(version));
        }
        PreKeyStore s;
        s.next_signed_id_ = r.u32();
        s.next_one_time_id_ = r.u32();
        std::uint32_t ns = r.u32();
        if (ns > 64) throw wire::DecodeError("too many signed pre-keys");
        for (std::uint32_t i = 0; i < ns; ++i) {
            auto pub = read_spk(r);
            auto pair = DhKeyPair::from_secret(SecretBytes::copy_of(r.raw(32)));
            s.signed_.push_back(Signed{pub, std::move(pair)});
        }
        std::uint32_t no = r.u32();
        if (no > 100000) throw wire::DecodeError("too many one-time pre-keys");
        for (std::uint32_t i = 0; i < no; ++i) {
            auto pub = read_otpk(r);
            auto pair = DhKeyPair::from_secret(SecretBytes::copy_of(r.raw(32)));
            std::uint64_t used_ms = version >= 2 ? r.u64() : 0;
            s.one_time_.emplace(pub.id, OneTime{pub, std::move(pair), used_ms});
        }
        r.expect_done();
        return s;
    });
}

}  // namespace veil::crypto
