// Fuzzes the key file decoder (parse_key_file, open_key_file): a key file on disk may be
// truncated or altered and must be refused with Error{damaged_key_file} (or, when wrapped,
// wrong_passphrase), never crash. What decodes re-encodes to the same key material.
#include <sodium.h>

#include <cstdlib>

#include "error.hpp"
#include "key_file.hpp"
#include "veil/crypto/keywrap.hpp"

using namespace veil::sqlcipher;

namespace {
// Argon2id cost stored in a wrapped blob (crypto/keywrap: version, alg, u64 ops, u64 mem, ...):
// only the minimum is worth running per input; higher costs are checked by parse + crypto.
bool minimum_cost(veil::wire::ByteView blob) {
    if (blob.size() < 18) return false;
    std::uint64_t ops = 0, mem = 0;
    for (int i = 0; i < 8; ++i) {
        ops = ops << 8 | blob[2 + static_cast<std::size_t>(i)];
        mem = mem << 8 | blob[10 + static_cast<std::size_t>(i)];
    }
    auto min = veil::crypto::WrapParams::minimum();
    return ops == min.opslimit && mem == min.memlimit_bytes;
}


// Parses and opens one candidate key file; aborts on any outcome the decoder must not have.
void check(veil::wire::ByteView in) {
    static const auto passphrase = veil::crypto::SecretBytes::copy_of(std::string_view("fuzz"));
    KeyFileView view;
    try {
        view = parse_key_file(in);
    } catch (const Error& e) {
        if (e.failure() != Failure::damaged_key_file) std::abort();
        return;
    }
    if (view.protection == Protection::passphrase && !minimum_cost(view.payload)) return;
    try {
        auto keys = open_key_file(view, &passphrase);
        if (keys.current.size() != kKeyBytes || (!keys.next.empty() && keys.next.size() != kKeyBytes)) std::abort();
        if (view.protection == Protection::none) {
            // The unwrapped encoding is canonical: re-sealing gives back the input.
            auto again = seal_key_file(keys, nullptr, veil::crypto::WrapParams::minimum());
            if (!again.equals(in)) std::abort();
        } else {
            auto again = seal_key_file(keys, &passphrase, veil::crypto::WrapParams::minimum());
            auto back = open_key_file(parse_key_file(again.view()), &passphrase);
            if (!back.current.equals(keys.current.view())) std::abort();
        }
    } catch (const Error& e) {
        if (e.failure() != Failure::damaged_key_file && e.failure() != Failure::wrong_passphrase) std::abort();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    check(in);
    // Again with the trailing checksum made right, so mutations reach the fields behind it.
    if (size >= 16) {
        veil::wire::Bytes fixed(data, data + size);
        crypto_generichash(fixed.data() + size - 16, 16, fixed.data(), size - 16, nullptr, 0);
        check(fixed);
    }
    return 0;
}
