#pragma once
/// The wall clock in the unit the protocol counts in. One definition for every part, so that
/// signed timestamps, TTLs and expiries agree.

#include <chrono>
#include <cstdint>

namespace veil::sdk {

/// Milliseconds since the Unix epoch (system clock): what owner-signed requests, message
/// timestamps, TTLs and manifest ages are measured in. Any thread. Not for measuring durations
/// (use std::chrono::steady_clock: the wall clock may jump).
inline std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace veil::sdk
