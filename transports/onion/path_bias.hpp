#pragma once
/// Path-bias accounting, as Tor does it: an attempt whose answer the client cannot verify (the
/// return layers carry no MAC, so any hop may have garbled it) or that timed out (any later hop
/// may have held it) proves nothing against the guard by itself. Such attempts are counted
/// against the guard, and the guard is blamed only when they dominate its recent attempts and
/// no single other node was on all of them (docs/onion.md "Blaming the guard").

#include <cstddef>
#include <deque>
#include <map>
#include <vector>

#include "layer.hpp"

namespace veil::onion {

class PathBias final {
public:
    struct Options {
        std::size_t window = 8;     ///< the guard's attempts remembered
        std::size_t threshold = 4;  ///< unverified attempts among them that blame the guard
    };

    explicit PathBias(Options options) : options_(options) {}

    /// Records an attempt through `guard` that went on through `beyond` (middle, exit,
    /// destination). Returns true when the guard is to be blamed; its record is then cleared.
    bool record(const Key32& guard, std::vector<Key32> beyond, bool verified);

private:
    struct Outcome {
        std::vector<Key32> beyond;
        bool verified = false;
    };
    bool one_node_explains(const std::deque<Outcome>& history) const;

    Options options_;
    std::map<Key32, std::deque<Outcome>> history_;  // by guard
};

}  // namespace veil::onion
