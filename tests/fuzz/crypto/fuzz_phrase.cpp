// Fuzzes the recovery-phrase decoder: a phrase that decodes re-encodes to the same entropy.
#include <cstdlib>
#include <string_view>

#include "veil/crypto/mnemonic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto entropy = veil::crypto::phrase_to_entropy(text);
        auto phrase = veil::crypto::entropy_to_phrase(entropy.view());
        if (!veil::crypto::phrase_to_entropy(phrase.str()).equals(entropy.view())) std::abort();
    } catch (const veil::crypto::Error& e) {
        if (e.kind() != veil::crypto::ErrorKind::invalid_phrase) std::abort();
    }
    return 0;
}
