#include "veil/crypto/x3dh.hpp"

#include <sodium.h>

#include "internal.hpp"
#include "veil/crypto/hkdf.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t header_version = 2;  // 1: AD held the device keys only
constexpr std::string_view x3dh_info = "Veil_X3DH_v2";

// SK = HKDF(F || DH1 || DH2 || DH3 [|| DH4]) with F = 32 0xFF bytes and a zero salt.
SecretBytes derive_sk(const SecretBytes& dh1, const SecretBytes& dh2, const SecretBytes& dh3,
                      const SecretBytes* dh4) {
    SecretBytes ikm(32 * (dh4 ? 5 : 4));
    std::fill_n(ikm.data(), 32, std::uint8_t{0xff});
    std::copy_n(dh1.data(), 32, ikm.data() + 32);
    std::copy_n(dh2.data(), 32, ikm.data() + 64);
    std::copy_n(dh3.data(), 32, ikm.data() + 96);
    if (dh4) std::copy_n(dh4->data(), 32, ikm.data() + 128);
    static const std::array<std::uint8_t, 32> zero_salt{};
    return hkdf_sha256(ikm.view(), zero_salt, label(x3dh_info), 32);
}

// AD = ID_A || IK_A || ID_B || IK_B: both identities and both devices, as X3DH asks
// ("AD = Encode(IK_A) || Encode(IK_B)", with Veil's two-level identity encoded whole).
Bytes associated_data(const PublicKey& id_a, const PublicKey& ik_a, const PublicKey& id_b, const PublicKey& ik_b) {
    Bytes ad;
    for (const auto* k : {&id_a, &ik_a, &id_b, &ik_b}) ad.insert(ad.end(), k->begin(), k->end());
    return ad;
}

}  // namespace

Bytes X3dhHeader::encode() const {
    wire::Writer w;
    w.u8(header_version).raw(initiator_key).raw(ephemeral_key).u32(signed_prekey_id);
    w.u8(one_time_prekey_id ? 1 : 0).u32(one_time_prekey_id.value_or(0));
    return w.take();
}

X3dhHeader X3dhHeader::decode(ByteView bytes) {
    return detail::decoding("x3dh header", [&] {
        wire::Reader r(bytes);
        detail::expect_bound_version(r, header_version, "x3dh header");
        X3dhHeader h;
        h.initiator_key = detail::read_key(r);
        h.ephemeral_key = detail::read_key(r);
        h.signed_prekey_id = r.u32();
        std::uint8_t has_otpk = r.u8();
        std::uint32_t otpk = r.u32();
        if (has_otpk > 1) throw wire::DecodeError("bad one-time pre-key flag");
        if (has_otpk) h.one_time_prekey_id = otpk;
        else if (otpk != 0) throw wire::DecodeError("one-time pre-key id without flag");
        r.expect_done();
        return h;
    });
}

X3dhInitiated x3dh_initiate(const DeviceKeys& self, const PublicKey& self_identity_key,
                            const PreKeyBundle& bundle, const VeilId& peer, std::uint64_t now_ms) {
    bundle.verify(peer, now_ms);
    const auto& ik_b = bundle.certificate.device_dh_key;
    const auto& spk_b = bundle.signed_prekey.key;
    auto ek = DhKeyPair::generate();
    auto dh1 = dh(self.dh_pair().sec, spk_b);
    auto dh2 = dh(ek.sec, ik_b);
    auto dh3 = dh(ek.sec, spk_b);
    X3dhInitiated out;
    out.header.initiator_key = self.dh_key();
    out.header.ephemeral_key = ek.pub;
    out.header.signed_prekey_id = bundle.signed_prekey.id;
    if (!bundle.one_time_prekeys.empty()) {
        const auto& opk = bundle.one_time_prekeys.front();
        auto dh4 = dh(ek.sec, opk.key);
        out.shared_key = derive_sk(dh1, dh2, dh3, &dh4);
        out.header.one_time_prekey_id = opk.id;
    } else {
        out.shared_key = derive_sk(dh1, dh2, dh3, nullptr);
    }
    out.associated_data = associated_data(self_identity_key, self.dh_key(), bundle.certificate.identity_key, ik_b);
    out.responder_ratchet_key = spk_b;
    return out;
}

X3dhResponded x3dh_respond(const DeviceKeys& self, const PublicKey& self_identity_key, const PreKeyStore& store,
                           const X3dhHeader& header, const DeviceCertificate& initiator) {
    if (sodium_memcmp(header.initiator_key.data(), initiator.device_dh_key.data(), 32) != 0) {
        throw Error(ErrorKind::untrusted_key, "X3DH identity key is not the sender device's key");
    }
    const auto& spk = store.signed_prekey(header.signed_prekey_id);
    auto dh1 = dh(spk.sec, header.initiator_key);
    auto dh2 = dh(self.dh_pair().sec, header.ephemeral_key);
    auto dh3 = dh(spk.sec, header.ephemeral_key);
    X3dhResponded out;
    if (header.one_time_prekey_id) {
        const auto& opk = store.one_time_prekey(*header.one_time_prekey_id);
        auto dh4 = dh(opk.sec, header.ephemeral_key);
        out.shared_key = derive_sk(dh1, dh2, dh3, &dh4);
    } else {
        out.shared_key = derive_sk(dh1, dh2, dh3, nullptr);
    }
    out.associated_data = associated_data(initiator.identity_key, header.initiator_key, self_identity_key, self.dh_key());
    return out;
}

}  // namespace veil::crypto
