#pragma once
/// What the link emulator (`veil-link`) does to one host's link, read from a TOML profile:
///
///   [default]                 # every link
///   delay_ms = 40             # one-way delay, each direction (in_delay_ms / out_delay_ms: one)
///   jitter_ms = 10            # + uniform 0..jitter_ms per chunk (order is kept)
///   bandwidth_kbit = 0        # per direction; 0 = unlimited
///   stall_probability = 0.01  # share of connections held, both ways, for stall_ms
///   stall_ms = 3000
///   [links.node-3]            # one host's link: any of the keys above, over [default]
///   in_delay_ms = 80          # "in" = toward the host, "out" = from it
///
/// `--delay MS` replaces every link's delay in both directions.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace veil::directory {

/// One direction of a link.
struct LinkDirection {
    std::uint64_t delay_ms = 0;
    std::uint64_t jitter_ms = 0;
    std::uint64_t bandwidth_kbit = 0;  ///< 0: unlimited
};

/// One host's link.
struct LinkProfile {
    LinkDirection in, out;  ///< toward the host, from the host
    double stall_probability = 0;
    std::uint64_t stall_ms = 0;
};

/// The profile of link `name` from `file` (none: all zero), with `delay_ms` (when given) as the
/// one-way delay of both directions. Throws naming the file and key on an unknown key or a wrong type.
[[nodiscard]] LinkProfile load_link_profile(const std::optional<std::filesystem::path>& file, const std::string& name,
                                            std::optional<std::uint64_t> delay_ms);

}  // namespace veil::directory
