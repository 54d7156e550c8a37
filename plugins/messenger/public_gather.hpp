#pragma once
/// Gathers a public namespace (device lists, pre-key bundles) read from every member of a swarm,
/// page by page, with a memory bound a hostile member or contact cannot lift: the lookup holds at
/// most `max_bytes` of item data, each member at most its equal share, and items are
/// deduplicated by hash in an ordered set (the hashes come from the member, so no hash table
/// that chosen keys could degrade). Pure logic: the service feeds it pages. Loop-thread only.

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "veil/proto/node_rpc.hpp"

namespace veil::messenger {

/// Bytes of item data one public lookup keeps at most (all members together).
inline constexpr std::size_t kMaxPublicBytes = 16u << 20;
/// Items one member may contribute at most.
inline constexpr std::size_t kMaxPublicItems = 10'000;
/// Pages one member is asked for at most: full pages (1,000 items) reach kMaxPublicItems in 10,
/// so only a member serving tiny pages (one item each, always "more") meets this bound, which
/// keeps it from holding a round for thousands of round trips (issue 14 review).
inline constexpr std::size_t kMaxPublicPages = 16;
/// How long one lookup keeps asking a member for further pages (each request has its own
/// deadline too): a member still paging then is left with what it gave.
inline constexpr std::uint64_t kMaxPublicReadMs = 20'000;

/// How many of a swarm's members gave a complete read of a public namespace (answered, and
/// said they had no more).
struct ReadCoverage final {
    std::size_t complete = 0;
    std::size_t members = 0;
};
/// Whether "no valid item" may be taken as the swarm's answer (a list is absent): with
/// `every_member`, all members gave a complete read (a restore starting a new chain); otherwise
/// most of them did. Fewer means a member that did not answer may hold it: the read failed.
[[nodiscard]] bool absence_agreed(ReadCoverage c, bool every_member);

class PublicGather final {
public:
    /// `members` answers are expected; each may bring max_bytes / members of data.
    explicit PublicGather(std::size_t members, std::size_t max_bytes = kMaxPublicBytes);

    /// Takes one page from member `member` (0-based); true if that member's paging may go on
    /// (its share, item count and kMaxPublicPages are not used up). Items past the share are
    /// dropped.
    bool add_page(std::size_t member, std::vector<proto::node::MessageItem> page);
    /// What one member brought, in bytes of item data.
    [[nodiscard]] std::size_t bytes_from(std::size_t member) const { return members_.at(member).bytes; }
    /// The items gathered so far, each hash once, in the order first seen.
    [[nodiscard]] std::vector<proto::node::MessageItem> take() { return std::move(items_); }

private:
    struct Member {
        std::size_t bytes = 0;
        std::size_t items = 0;
        std::size_t pages = 0;
        bool full = false;
    };
    std::size_t share_bytes_;
    std::vector<Member> members_;
    std::set<proto::node::Hash> seen_;
    std::vector<proto::node::MessageItem> items_;
};

}  // namespace veil::messenger
