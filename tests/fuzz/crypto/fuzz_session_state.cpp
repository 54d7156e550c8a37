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
        // What loads (caps applied) stores and loads again unchanged.
        auto stored = PreKeyStore::deserialize(in).serialize();
        if (!PreKeyStore::deserialize(stored.view()).serialize().equals(stored.view())) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        SessionManager m(device, PublicKey{}, store);
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
