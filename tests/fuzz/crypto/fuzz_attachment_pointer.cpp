// Fuzzes AttachmentPointer decoding: what decodes encodes back to the same bytes.
#include <cstdlib>

#include "veil/crypto/file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    ByteView in(data, size);
    try {
        auto p = AttachmentPointer::decode(in);
        if (!p.encode().equals(in)) std::abort();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
    return 0;
}
