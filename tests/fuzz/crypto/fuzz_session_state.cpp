// Fuzzes the storage decoders (ratchet state, pre-key store, session manager, device keys):
// stored state may be corrupted on disk and must be refused cleanly.
#include <cstdlib>

#include "veil/crypto/session_manager.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    static const auto device = DeviceKeys::from_seed(SecretBytes(32));
    static PreKeyStore store;
    ByteView in(data, size);
    auto expect_malformed = [](const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    };
    try {
        auto s = RatchetSession::deserialize(in);
        if (!s.serialize().equals(in)) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        (void)PreKeyStore::deserialize(in);
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        SessionManager m(device, store);
        m.load(in);
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        (void)DeviceKeys::deserialize(in);
    } catch (const Error& e) {
        expect_malformed(e);
    }
    return 0;
}
