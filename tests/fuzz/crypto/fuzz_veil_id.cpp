// Fuzzes parse_veil_id: any text either parses to an ID that prints back the same (lower-case)
// or throws veil::crypto::Error{invalid_id}.
#include <cstdlib>
#include <string>

#include "veil/crypto/identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        auto id = veil::crypto::parse_veil_id(text);
        std::string lower = text;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (id.str() != lower) std::abort();
    } catch (const veil::crypto::Error& e) {
        if (e.kind() != veil::crypto::ErrorKind::invalid_id) std::abort();
    }
    return 0;
}
