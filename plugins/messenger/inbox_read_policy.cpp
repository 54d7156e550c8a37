#include "inbox_read_policy.hpp"

#include <algorithm>

namespace veil::messenger {

InboxReadPolicy::Next InboxReadPolicy::after_answer(bool fresh, std::uint64_t now_ms) {
    Next next;
    if (fresh) {
        stale_delay_ = 0;
    } else {
        // Nothing new: a replaying member, or one whose deletes lag; leave it, and slow down.
        stale_delay_ = stale_delay_ == 0 ? kFirstStaleDelayMs : std::min(stale_delay_ * 2, kMaxStaleDelayMs);
        next.change_member = true;
    }
    next.delay_ms = stale_delay_;
    if (++rounds_ >= kMaxRoundsPerMember) next.change_member = true;
    if (next.change_member) rounds_ = 0;
    next.full_read = now_ms - last_full_read_ >= kFullReadEveryMs;
    return next;
}

}  // namespace veil::messenger
