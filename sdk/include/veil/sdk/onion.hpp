#pragma once
/// Protocol values of the onion transport that a third-party client or relay must agree on.
/// Header only; the packet codec itself is transports/onion/layer.hpp (docs/onion.md).

#include <cstdint>
#include <string_view>

namespace veil::sdk::onion {

/// Why a relay could not carry a request to its next hop. A relay seals this under the key it
/// shares with the client, so only the relay that saw the failure can report it, and earlier
/// relays pass it back without being able to read or change it. Zero is never valid.
enum class HopFailure : std::uint8_t {
    next_hop_unreachable = 1,  ///< no connection to the next hop, or it broke
    next_hop_timeout = 2,      ///< the next hop did not answer in time
    next_hop_refused = 3,      ///< the next hop answered with a refusal (busy, bad layer)
};

/// True for the values above (decoders refuse anything else).
constexpr bool is_valid(HopFailure f) {
    return f == HopFailure::next_hop_unreachable || f == HopFailure::next_hop_timeout ||
           f == HopFailure::next_hop_refused;
}

/// A short name for logs and errors.
constexpr std::string_view to_string(HopFailure f) {
    switch (f) {
        case HopFailure::next_hop_unreachable: return "next hop unreachable";
        case HopFailure::next_hop_timeout: return "next hop timed out";
        case HopFailure::next_hop_refused: return "next hop refused";
    }
    return "unknown hop failure";
}

}  // namespace veil::sdk::onion
