// Fuzzes SealedEnvelope decoding and opening with a fixed recipient key.
#include <cstdlib>

#include "veil/crypto/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    static const auto recipient = DeviceKeys::from_seed(SecretBytes(32));
    ByteView in(data, size);
    try {
        auto env = SealedEnvelope::decode(in);
        if (env.encode() != Bytes(in.begin(), in.end())) std::abort();
        try {
            auto opened = open(env, recipient.dh_pair());
            (void)opened.sender.claimed_id();
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::decrypt_failed && e.kind() != ErrorKind::malformed &&
                e.kind() != ErrorKind::weak_key && e.kind() != ErrorKind::untrusted_key) {
                std::abort();
            }
        }
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    return 0;
}
