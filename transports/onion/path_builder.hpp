#pragma once
/// Chooses onion paths: a sticky guard plus a random middle and exit, all from distinct swarms
/// (and distinct /24 networks where the addresses allow it), avoiding nodes that recently failed.
/// Loop-thread only. Randomness comes from libsodium.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "layer.hpp"

namespace veil::onion {

/// A relay candidate from the manifest.
struct Candidate {
    Hop hop;
    std::uint64_t swarm_id = 0;
};

/// guard, middle, exit.
using Path = std::vector<Hop>;

class PathBuilder final {
public:
    struct Options {
        std::uint64_t guard_lifetime_ms = 7ull * 24 * 3600 * 1000;  ///< rotate the guard weekly
        std::uint64_t strike_ms = 10ull * 60 * 1000;                 ///< how long a failed node is avoided
        std::size_t hops = 3;
    };

    explicit PathBuilder(Options options) : options_(options) {}

    /// Replaces the candidate set (a new manifest). Keeps the guard if it is still listed.
    void set_candidates(std::vector<Candidate> candidates);

    /// A fresh path avoiding `exclude` (e.g. the destination) and, while enough nodes are left,
    /// struck nodes; nullopt if the manifest has too few nodes.
    std::optional<Path> build(std::uint64_t now_ms, const std::vector<Key32>& exclude = {});

    /// Marks a node as failed: it is avoided for strike_ms; a struck guard is replaced.
    void strike(const Key32& node_id, std::uint64_t now_ms);

    /// True while a node is struck.
    [[nodiscard]] bool struck(const Key32& node_id, std::uint64_t now_ms) const;

    /// The guard and when it was chosen, for keeping it across restarts.
    struct GuardState {
        Key32 node_id{};
        std::uint64_t chosen_ms = 0;
    };
    [[nodiscard]] std::optional<GuardState> guard() const { return guard_; }
    void restore_guard(GuardState state) { guard_ = state; }

private:
    bool usable(const Candidate& c, std::uint64_t now_ms, const std::vector<Key32>& exclude) const;
    const Candidate* find(const Key32& node_id) const;
    /// What a path must satisfy; build() relaxes these in turn rather than fail.
    struct Rules {
        bool distinct_nets = true;    ///< no two hops on one /24
        bool distinct_swarms = true;  ///< no two hops in one swarm
        bool avoid_struck = true;     ///< no node that failed lately
    };
    std::optional<Path> pick(std::uint64_t now_ms, const std::vector<Key32>& exclude, Rules rules);

    Options options_;
    std::vector<Candidate> candidates_;
    std::map<Key32, std::uint64_t> struck_until_ms_;
    std::optional<GuardState> guard_;
};

/// The /24 network of an IPv4 "a.b.c.d:port" address ("a.b.c"), or the host for anything else.
std::string network_of(const std::string& address);

}  // namespace veil::onion
