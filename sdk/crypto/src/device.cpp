#include "veil/crypto/device.hpp"

#include <sodium.h>

#include <algorithm>
#include <tuple>

#include "internal.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t cert_version = 1;
constexpr std::uint8_t list_version = 1;
constexpr std::string_view cert_label = "Veil_DeviceCertificate_v1";
constexpr std::string_view list_label = "Veil_DeviceList_v1";

Bytes cert_signed_part(const DeviceCertificate& c) {
    auto w = detail::signed_writer(cert_label);
    w.raw(c.identity_key).raw(c.device_signing_key).raw(c.device_dh_key).u64(c.issued_ms);
    return w.take();
}

}  // namespace

DeviceKeys::DeviceKeys(SecretBytes seed, SigningKeyPair sign, DhKeyPair dh)
    : seed_(std::move(seed)), sign_(std::move(sign)), dh_(std::move(dh)) {}

DeviceKeys DeviceKeys::generate() { return from_seed(SecretBytes::random(32)); }

DeviceKeys DeviceKeys::from_seed(const SecretBytes& seed) {
    if (seed.size() != 32) throw Error(ErrorKind::invalid_argument, "device seed must be 32 bytes");
    auto sign = SigningKeyPair::from_seed(seed.view());
    auto dh = sign.to_dh();
    return DeviceKeys(seed.clone(), std::move(sign), std::move(dh));
}

SecretBytes DeviceKeys::serialize() const {
    SecretBytes out(33);
    out.data()[0] = 1;
    std::copy_n(seed_.data(), 32, out.data() + 1);
    return out;
}

DeviceKeys DeviceKeys::deserialize(ByteView bytes) {
    if (bytes.size() != 33 || bytes[0] != 1) {
        throw Error(ErrorKind::malformed, "device keys: expected version 1 and 32 bytes");
    }
    return from_seed(SecretBytes::copy_of(bytes.subspan(1)));
}

DeviceCertificate DeviceCertificate::issue(const Identity& identity, const DeviceKeys& device,
                                           std::uint64_t now_ms) {
    return issue(identity, device.signing_key(), device.dh_key(), now_ms);
}

DeviceCertificate DeviceCertificate::issue(const Identity& identity, const PublicKey& device_signing_key,
                                           const PublicKey& device_dh_key, std::uint64_t now_ms) {
    DeviceCertificate c;
    c.identity_key = identity.signing_key();
    c.device_signing_key = device_signing_key;
    c.device_dh_key = device_dh_key;
    c.issued_ms = now_ms;
    c.signature = identity.sign(cert_signed_part(c));
    return c;
}

void DeviceCertificate::verify(const VeilId& id) const {
    // The device's X25519 key must be the conversion of its Ed25519 key, so one seed owns both.
    PublicKey x = ed25519_to_x25519(device_signing_key);
    if (sodium_memcmp(x.data(), device_dh_key.data(), x.size()) != 0) {
        throw Error(ErrorKind::untrusted_key, "device certificate: X25519 key does not match the "
                                              "device's Ed25519 key");
    }
    verify_identity_signature(id, identity_key, cert_signed_part(*this), signature);
}

void DeviceCertificate::verify(const VeilId& id, const DeviceList& list) const {
    verify(id);
    list.verify(id);
    const auto* entry = list.find(device_signing_key);
    if (entry == nullptr || entry->revoked() || entry->dh_key != device_dh_key) {
        throw Error(ErrorKind::revoked, "device is not active in the identity's device list");
    }
}

Bytes DeviceCertificate::encode() const {
    wire::Writer w;
    w.u8(cert_version).raw(identity_key).raw(device_signing_key).raw(device_dh_key);
    w.u64(issued_ms).raw(signature);
    return w.take();
}

DeviceCertificate DeviceCertificate::decode(ByteView bytes) {
    return detail::decoding("device certificate", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, cert_version, "device certificate");
        DeviceCertificate c;
        c.identity_key = detail::read_key(r);
        c.device_signing_key = detail::read_key(r);
        c.device_dh_key = detail::read_key(r);
        c.issued_ms = r.u64();
        c.signature = detail::read_signature(r);
        r.expect_done();
        return c;
    });
}

Bytes DeviceList::signed_part() const {
    auto w = detail::signed_writer(list_label);
    w.raw(identity_key_).u64(version_).u64(issued_ms_).u16(static_cast<std::uint16_t>(entries_.size()));
    for (const auto& e : entries_) w.raw(e.signing_key).raw(e.dh_key).u64(e.added_ms).u64(e.revoked_ms);
    return w.take();
}

DeviceList DeviceList::signed_next(const Identity& identity, std::vector<Entry> entries,
                                   std::uint64_t min_version) const {
    if (version_ != 0 && identity.signing_key() != identity_key_) {
        throw Error(ErrorKind::untrusted_key, "device list belongs to another identity");
    }
    if (entries.size() > max_devices) {
        throw Error(ErrorKind::too_large, "device list holds at most 64 devices");
    }
    DeviceList next;
    next.identity_key_ = identity.signing_key();
    next.version_ = std::max(version_ + 1, min_version);
    if (next.version_ > max_version) throw Error(ErrorKind::too_large, "device list version beyond 2^63 - 1");
    next.entries_ = std::move(entries);
    for (const auto& e : next.entries_) next.issued_ms_ = std::max({next.issued_ms_, e.added_ms, e.revoked_ms});
    next.signature_ = identity.sign(next.signed_part());
    return next;
}

DeviceList DeviceList::with_device(const Identity& identity, const DeviceKeys& device,
                                   std::uint64_t now_ms, std::uint64_t min_version) const {
    return with_device(identity, device.signing_key(), device.dh_key(), now_ms, min_version);
}

DeviceList DeviceList::with_device(const Identity& identity, const PublicKey& signing_key,
                                   const PublicKey& dh_key, std::uint64_t now_ms,
                                   std::uint64_t min_version) const {
    if (find(signing_key) != nullptr) {
        throw Error(ErrorKind::invalid_argument, "device is already listed (revoked devices "
                                                 "cannot come back; make new device keys)");
    }
    auto entries = entries_;
    entries.push_back(Entry{signing_key, dh_key, now_ms, 0});
    return signed_next(identity, std::move(entries), min_version);
}

DeviceList DeviceList::with_revoked(const Identity& identity, const PublicKey& device_signing_key,
                                    std::uint64_t now_ms) const {
    auto entries = entries_;
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.signing_key == device_signing_key; });
    if (it == entries.end() || it->revoked()) {
        throw Error(ErrorKind::revoked, "device is not an active member of the list");
    }
    it->revoked_ms = std::max<std::uint64_t>(now_ms, 1);
    return signed_next(identity, std::move(entries));
}

DeviceList DeviceList::merged_with(const Identity& identity, const DeviceList& other) const {
    if (other.identity_key_ != identity.signing_key() || identity_key_ != identity.signing_key()) {
        throw Error(ErrorKind::untrusted_key, "device list belongs to another identity");
    }
    // Its own check, not the caller's: a forged list naming our identity key must not get its
    // devices signed into ours.
    other.verify(identity.veil_id());
    auto entries = entries_;
    for (const auto& o : other.entries_) {
        auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const Entry& e) { return e.signing_key == o.signing_key; });
        if (it == entries.end()) {
            entries.push_back(o);
            continue;
        }
        // Revoked on either side stays revoked: a fork never brings a device back.
        if (o.revoked() && (!it->revoked() || o.revoked_ms < it->revoked_ms)) it->revoked_ms = o.revoked_ms;
        it->added_ms = std::min(it->added_ms, o.added_ms);
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.added_ms, a.signing_key) < std::tie(b.added_ms, b.signing_key);
    });
    return signed_next(identity, std::move(entries), std::max(version_, other.version_) + 1);
}

void DeviceList::verify(const VeilId& id) const {
    if (version_ == 0) throw Error(ErrorKind::bad_signature, "device list is unsigned (version 0)");
    verify_identity_signature(id, identity_key_, signed_part(), signature_);
}

bool DeviceList::from_future(std::uint64_t now_ms) const {
    return version_ > now_ms && version_ - now_ms > max_version_lead_ms;
}

DeviceList DeviceList::accept_update(const std::optional<DeviceList>& current, DeviceList incoming,
                                     const VeilId& id, std::uint64_t now_ms) {
    incoming.verify(id);
    if (incoming.from_future(now_ms)) {
        throw Error(ErrorKind::too_large, "device list version " + std::to_string(incoming.version_) +
                                              " lies more than a day ahead of this clock");
    }
    if (current && incoming.version_ <= current->version_) {
        throw Error(ErrorKind::stale_version, "device list version " + std::to_string(incoming.version_) +
                                                  " is not newer than " +
                                                  std::to_string(current->version_));
    }
    return incoming;
}

const DeviceList::Entry* DeviceList::find(const PublicKey& device_signing_key) const {
    for (const auto& e : entries_) {
        if (e.signing_key == device_signing_key) return &e;
    }
    return nullptr;
}

bool DeviceList::is_active(const PublicKey& device_signing_key) const {
    const Entry* e = find(device_signing_key);
    return e != nullptr && !e->revoked();
}

Bytes DeviceList::encode() const {
    wire::Writer w;
    w.u8(list_version).raw(identity_key_).u64(version_).u64(issued_ms_);
    w.u16(static_cast<std::uint16_t>(entries_.size()));
    for (const auto& e : entries_) w.raw(e.signing_key).raw(e.dh_key).u64(e.added_ms).u64(e.revoked_ms);
    w.raw(signature_);
    return w.take();
}

DeviceList DeviceList::decode(ByteView bytes) {
    return detail::decoding("device list", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, list_version, "device list");
        DeviceList l;
        l.identity_key_ = detail::read_key(r);
        l.version_ = r.u64();
        // Above it, version + 1 would wrap: no list could ever supersede this one.
        if (l.version_ > max_version) throw wire::DecodeError("device list version beyond 2^63 - 1");
        l.issued_ms_ = r.u64();
        std::uint16_t n = r.u16();
        if (n > max_devices) throw wire::DecodeError("more than 64 devices");
        for (std::uint16_t i = 0; i < n; ++i) {
            Entry e;
            e.signing_key = detail::read_key(r);
            e.dh_key = detail::read_key(r);
            e.added_ms = r.u64();
            e.revoked_ms = r.u64();
            if (l.find(e.signing_key) != nullptr) throw wire::DecodeError("a device listed twice");
            l.entries_.push_back(e);
        }
        l.signature_ = detail::read_signature(r);
        r.expect_done();
        return l;
    });
}

}  // namespace veil::crypto
