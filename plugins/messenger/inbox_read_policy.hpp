#pragma once
/// Where and when the resident client reads its inbox next (issue 16 follow-up). The long-poll
/// stays with one member for its cursor, but a hostile member that answers every long-poll at
/// once with a replayed item is never idle and never fails: without these bounds no other member
/// would be read again. So: a full read from a random member every kFullReadEveryMs even while
/// traffic flows, another member after kMaxRoundsPerMember answers or after an answer with
/// nothing new, and a growing pause after answers with nothing new. Pure (time passed in).

#include <cstdint>

namespace veil::messenger {

class InboxReadPolicy final {
public:
    static constexpr std::uint64_t kFullReadEveryMs = 7'000;
    static constexpr unsigned kMaxRoundsPerMember = 8;
    static constexpr std::uint64_t kFirstStaleDelayMs = 250;
    static constexpr std::uint64_t kMaxStaleDelayMs = 8'000;

    /// What to do before the next long-poll.
    struct Next {
        bool full_read = false;      // read the whole inbox from a random member first
        bool change_member = false;  // the next long-poll goes to another member, from the start
        std::uint64_t delay_ms = 0;  // pause before it
    };
    explicit InboxReadPolicy(std::uint64_t now_ms) : last_full_read_(now_ms) {}

    /// After a long-poll answer; `fresh`: it held an item not handled before.
    Next after_answer(bool fresh, std::uint64_t now_ms);
    /// A full read was made (also the first one, and the one after a timeout or failure).
    void full_read_done(std::uint64_t now_ms) { last_full_read_ = now_ms; }

private:
    std::uint64_t last_full_read_;
    unsigned rounds_ = 0;
    std::uint64_t stale_delay_ = 0;
};

}  // namespace veil::messenger
