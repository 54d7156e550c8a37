// Fuzzes DeviceList, DeviceCertificate and DeviceKeys decoding and verification: whatever decodes
// encodes back to the same bytes; nothing verifies for an identity that did not sign it; stored
// device keys come back as the same keys.
#include <cstdlib>

#include "veil/crypto/device.hpp"

namespace {
const veil::crypto::Identity& fixed_identity() {
    static const auto id = veil::crypto::Identity::from_seed(veil::crypto::SecretBytes(32));
    return id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    ByteView in(data, size);
    try {
        auto list = DeviceList::decode(in);
        if (list.encode() != Bytes(in.begin(), in.end())) std::abort();
        if (list.version() > DeviceList::max_version) std::abort();  // version + 1 must never wrap
        (void)list.from_future(list.version());
        try {
            list.verify(fixed_identity().veil_id());
        } catch (const Error&) {
        }
        (void)list.is_active(PublicKey{});
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    try {
        auto cert = DeviceCertificate::decode(in);
        if (cert.encode() != Bytes(in.begin(), in.end())) std::abort();
        try {
            cert.verify(fixed_identity().veil_id());
        } catch (const Error&) {
        }
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    try {
        auto keys = DeviceKeys::deserialize(in);
        if (!keys.serialize().equals(in)) std::abort();
        auto again = DeviceKeys::deserialize(keys.serialize().view());
        if (again.signing_key() != keys.signing_key() || again.dh_key() != keys.dh_key()) std::abort();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    return 0;
}
