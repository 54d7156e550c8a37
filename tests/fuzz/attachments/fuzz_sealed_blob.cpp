// libFuzzer target: opening a downloaded blob (untrusted bytes from a store) must refuse
// cleanly (SealError) unless it is exactly the sealed file. The input is split into a blob and
// a ref; one fixed sealed file is also tried with the input xor-ed over it, so mutations reach
// the stream past the digest check when the digest is recomputed.

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "sealed_blob.hpp"

using namespace veil;
using namespace veil::attachments;
namespace as = veil::proto::blob;

namespace {

struct Fixed {
    Bytes file;
    SealedBlob sealed;
    sdk::attachment::AttachmentRef ref;
    Fixed() {
        if (sodium_init() < 0) std::abort();
        file.assign(70'000, 0x5a);
        sealed = seal(file);
        ref.id = sealed.id;
        ref.digest = sealed.digest;
        std::memcpy(ref.key.data(), sealed.key.data(), 32);
        ref.size_bytes = sealed.size_bytes;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixed fixed;
    // 1. Arbitrary blob against an arbitrary ref (the first 72 bytes: key, digest, size).
    if (size >= 72) {
        sdk::attachment::AttachmentRef ref;
        std::memcpy(ref.key.data(), data, 32);
        std::memcpy(ref.digest.data(), data + 32, 32);
        ref.id = as::blob_id(ref.digest);
        std::uint64_t n = 0;
        std::memcpy(&n, data + 64, 8);
        ref.size_bytes = n % (1u << 20);
        try {
            (void)open(ByteView(data + 72, size - 72), ref);
        } catch (const SealError&) {
        }
    }
    // 2. The fixed blob with the input xor-ed in, digest recomputed (a lying store).
    Bytes blob = fixed.sealed.blob;
    bool changed = false;
    for (std::size_t i = 0; i < size; ++i) {
        auto at = (i * 7919) % blob.size();
        changed |= data[i] != 0;
        blob[at] ^= data[i];
    }
    auto ref = fixed.ref;
    ref.digest = as::blob_digest(blob);
    ref.id = as::blob_id(ref.digest);
    try {
        auto plain = open(blob, ref);
        // Only the untouched blob may open, and to the very file.
        if (plain.size() != fixed.file.size() || std::memcmp(plain.data(), fixed.file.data(), plain.size()) != 0) std::abort();
        if (changed && blob != fixed.sealed.blob) std::abort();
    } catch (const SealError&) {
    }
    return 0;
}
