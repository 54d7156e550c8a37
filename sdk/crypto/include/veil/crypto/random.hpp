#pragma once
// Random choices an adversary must not predict (paths, member order, which node to ask): one
// place, on libsodium's uniform generator.

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

namespace veil::crypto {

/// A uniform index in [0, n), for 0 < n < 2^32.
inline std::size_t random_index(std::size_t n) { return randombytes_uniform(static_cast<std::uint32_t>(n)); }

/// Shuffles a random-access range in place (Fisher-Yates).
template <class Range>
void shuffle(Range& range) {
    using std::swap;
    for (std::size_t i = std::size(range); i > 1; --i) swap(range[i - 1], range[random_index(i)]);
}

}  // namespace veil::crypto
