#pragma once
// Helpers shared by the crypto unit tests.

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "veil/wire/codec.hpp"

namespace wire = veil::wire;

namespace veil::crypto::test {

inline veil::wire::Bytes hex(std::string_view s) { return veil::wire::from_hex(s); }

inline nlohmann::json load_json(const std::string& name) {
    std::ifstream in(std::string(VEIL_SOURCE_DIR) + "/tests/data/crypto/" + name);
    if (!in) throw std::runtime_error("missing test data " + name);
    return nlohmann::json::parse(in);
}

inline bool has_flag(const nlohmann::json& test, const std::string& flag) {
    for (const auto& f : test.at("flags")) {
        if (f == flag) return true;
    }
    return false;
}

inline veil::wire::ByteView bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace veil::crypto::test
