// Fuzzes PreKeyBundle decoding and verification.
#include <cstdlib>

#include "veil/crypto/prekey.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    ByteView in(data, size);
    try {
        auto bundle = PreKeyBundle::decode(in);
        if (bundle.encode() != Bytes(in.begin(), in.end())) std::abort();
        try {
            bundle.verify(bundle.certificate.claimed_id(), 0);
        } catch (const Error&) {
        }
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    return 0;
}
