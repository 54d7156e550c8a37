#include "veil/crypto/prekey.hpp"

#include <algorithm>

#include <sodium.h>

#include "internal.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t bundle_version = 2;  // 1: pre-key signatures without the identity
constexpr std::uint8_t store_version = 3;   // 2: v1 signatures; 1: no used_ms per one-time key
constexpr std::string_view spk_label = "Veil_SignedPreKey_v2";
constexpr std::string_view otpk_label = "Veil_OneTimePreKey_v2";

// The identity key is signed too, so the device's pre-keys cannot be shown under another
// identity that certified the same device keys (unknown key-share, issue 14).
Bytes spk_signed_part(const SignedPreKey& k, const PublicKey& identity, const PublicKey& device) {
    auto w = detail::signed_writer(spk_label);
    w.raw(identity).raw(device).u32(k.id).raw(k.key).u64(k.expires_ms);
    return w.take();
}

Bytes otpk_signed_part(const OneTimePreKey& k, const PublicKey& identity, const PublicKey& device) {
    auto w = detail::signed_writer(otpk_label);
    w.raw(identity).raw(device).u32(k.id).raw(k.key);
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
    const auto& identity = certificate.identity_key;
    const auto& device = certificate.device_signing_key;
    if (!verify_signature(device, spk_signed_part(signed_prekey, identity, device), signed_prekey.signature)) {
        throw Error(ErrorKind::bad_signature, "signed pre-key signature does not verify");
    }
    if (signed_prekey.expires_ms <= now_ms) {
        throw Error(ErrorKind::expired, "signed pre-key expired");
    }
    for (const auto& k : one_time_prekeys) {
        if (!verify_signature(device, otpk_signed_part(k, identity, device), k.signature)) {
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
        detail::expect_bound_version(r, bundle_version, "pre-key bundle");
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

SignedPreKey PreKeyStore::rotate_signed_prekey(const DeviceKeys& device, const PublicKey& identity_key,
                                               std::uint64_t now_ms, std::uint64_t lifetime_ms) {
    Signed s{{}, DhKeyPair::generate()};
    s.pub.id = next_signed_id_++;
    s.pub.key = s.pair.pub;
    s.pub.expires_ms = now_ms + lifetime_ms;
    s.pub.signature = device.sign(spk_signed_part(s.pub, identity_key, device.signing_key()));
    signed_.push_back(std::move(s));
    expire(now_ms);
    return signed_.back().pub;
}

std::vector<OneTimePreKey> PreKeyStore::generate_one_time_prekeys(const DeviceKeys& device,
                                                                  const PublicKey& identity_key,
                                                                  std::size_t count) {
    std::vector<OneTimePreKey> out;
    for (std::size_t i = 0; i < count; ++i) {
        OneTime k{{}, DhKeyPair::generate()};
        k.pub.id = next_one_time_id_++;
        k.pub.key = k.pair.pub;
        k.pub.signature = device.sign(otpk_signed_part(k.pub, identity_key, device.signing_key()));
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
    if (it == one_time_.end() || it->second.used_ms != 0) return;
    it->second.used_ms = std::max<std::uint64_t>(now_ms, 1);
    evict_used_beyond_cap();
}

void PreKeyStore::evict_used_beyond_cap() {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> used;  // (used_ms, id), oldest first
    for (const auto& [id, k] : one_time_) {
        if (k.used_ms != 0) used.emplace_back(k.used_ms, id);
    }
    if (used.size() <= max_used_one_time_keys) return;
    std::sort(used.begin(), used.end());
    for (std::size_t i = 0; i < used.size() - max_used_one_time_keys; ++i) one_time_.erase(used[i].second);
}

std::size_t PreKeyStore::used_one_time_count() const { return one_time_.size() - one_time_count(); }

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
        detail::expect_bound_version(r, store_version, "pre-key store");
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
        // One-time keys are parsed first and only the kept ones get guarded memory, so a store
        // of any size loads with bounded guarded memory (the caps are in the header).
        struct Parsed final {
            OneTimePreKey pub;
            ByteView secret;
            std::uint64_t used_ms;
        };
        std::vector<Parsed> unused, used;
        std::uint32_t no = r.u32();
        for (std::uint32_t i = 0; i < no; ++i) {
            Parsed p{read_otpk(r), r.raw(32), r.u64()};
            (p.used_ms == 0 ? unused : used).push_back(p);
        }
        r.expect_done();
        std::sort(unused.begin(), unused.end(), [](const Parsed& a, const Parsed& b) { return a.pub.id < b.pub.id; });
        std::sort(used.begin(), used.end(), [](const Parsed& a, const Parsed& b) { return a.used_ms > b.used_ms; });
        unused.resize(std::min(unused.size(), max_unused_one_time_keys));
        used.resize(std::min(used.size(), max_used_one_time_keys));
        for (const auto* kept : {&unused, &used}) {
            for (const auto& p : *kept) {
                auto pair = DhKeyPair::from_secret(SecretBytes::copy_of(p.secret));
                s.one_time_.emplace(p.pub.id, OneTime{p.pub, std::move(pair), p.used_ms});
            }
        }
        return s;
    });
}

}  // namespace veil::crypto
