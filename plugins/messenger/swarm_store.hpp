#pragma once
/// When a store sent to every member of a swarm counts as done (docs/messenger.md §Sending to a
/// swarm). One member may be hostile: it may answer ok and drop the message, or ask an absurd
/// proof of work. So a store counts only when a majority of the members that answered stored
/// it, and the sender pays the price the cheapest members of such a majority ask, ignoring an
/// outlier's. Plain function of the answers, no I/O.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "veil/proto/node_rpc.hpp"

namespace veil::messenger {

/// What to do after one round of answers.
struct StoreVerdict {
    enum class Kind : std::uint8_t {
        stored = 1,  ///< a majority of the members that answered stored it (with `members`: of all members)
        taken,       ///< with `members`: a majority of those that answered stored it, not of all
                     ///< members (some down): it stands, and is stored again until settled
        pay,         ///< solve `work` and send again: then enough members accept
        refused,     ///< no majority at a price within `max_work`: `reason` says why
    };
    Kind kind = Kind::refused;
    std::uint64_t work = 0;
    const proto::node::Response* reason = nullptr;  ///< one refusing answer (points into the answers)
    std::size_t stored = 0;                          ///< members that answered ok
};

/// How many of a swarm's members hold a published store (members 0: not counted, settled).
struct Holders {
    std::size_t held = 0;
    std::size_t members = 0;
    /// False when what it was built on was read from too few members (Service::publish: most
    /// members must give a complete read of the lists joined first): never settled then.
    bool read_complete = true;
    /// A majority of ALL the swarm's members hold it (and it was built on a complete read).
    [[nodiscard]] bool settled() const { return read_complete && (members == 0 || held >= members / 2 + 1); }
};

/// Judges `answers` (one per member that answered, as sdk::swarm::MemberAnswers gives them).
/// With `members` (the swarm's size), it is stored (settled) once a majority of the swarm's
/// members stored it, whoever answered: what a device list publish needs, so that any majority
/// that answers a later read (`init --restore`) holds one member that stored it; a majority of
/// those that answered only is `taken`. Without, a majority of those that answered stores it.
[[nodiscard]] StoreVerdict judge_store(const std::vector<proto::node::Response>& answers, std::uint64_t max_work,
                                       std::size_t members = 0);

}  // namespace veil::messenger
