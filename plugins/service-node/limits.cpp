#include "limits.hpp"

#include <algorithm>

#include "veil/proto/blob_rpc.hpp"

namespace veil::node {

bool ttl_in_range(const Limits& limits, std::uint64_t ttl_ms) {
    return ttl_ms >= limits.min_ttl_ms && ttl_ms <= limits.max_ttl_ms;
}

Status check_store(const Limits& limits, const StoreRequest& q) {
    if (q.data.size() > limits.max_data_bytes) return Status::too_large;
    if (!ttl_in_range(limits, q.ttl_ms)) return Status::bad_ttl;
    return Status::ok;
}

Status check_expiry(const Limits& limits, std::uint64_t expiry_ms, std::uint64_t now_ms) {
    if (expiry_ms <= now_ms || expiry_ms - now_ms > limits.max_ttl_ms) return Status::bad_ttl;
    return Status::ok;
}

PageQuery clamp_page(const Limits& limits, PageQuery page) {
    page.max_count = std::clamp<std::uint32_t>(page.max_count, 1, limits.max_page_count);
    page.max_bytes = std::clamp<std::uint32_t>(page.max_bytes, 1, limits.max_page_bytes);
    return page;
}

std::uint64_t node_store_work(const Limits& limits, std::uint64_t stored_bytes, std::size_t data_bytes,
                              std::uint64_t ttl_ms) {
    // The node's cap in 10 KiB slots (at least 1,000, so a small test cap still rises steeply):
    // a large store pays for each slot it takes, as an envelope does of a mailbox's quota.
    constexpr std::uint64_t kSlotBytes = 10 << 10;
    WorkPricing pricing = limits.work;
    pricing.free_fraction = limits.node_work_free_fraction;
    const MailboxFill fill{0, stored_bytes, std::max<std::uint64_t>(1000, limits.max_stored_bytes / kSlotBytes),
                           limits.max_stored_bytes};
    return required_store_work(pricing, fill, data_bytes, ttl_ms);
}

std::size_t max_body_for(const DoorLimits& doors, std::string_view service) {
    if (service == kStorageService) return doors.storage_frame;
    if (service == kPeerService) return doors.peer_frame;
    if (service == "onion") return doors.onion_frame;
    if (service == proto::blob::kServiceName) return doors.attachments_frame;
    return doors.other_frame;
}

PeerBudget::PeerBudget(const Limits& limits)
    : requests_(limits.peer_requests_per_second, limits.peer_request_burst),
      bytes_(limits.peer_bytes_per_second, limits.peer_byte_burst) {}

bool PeerBudget::allow(std::uint64_t now_ms, std::size_t bytes) {
    // Both buckets are checked before either is charged: a frame refused for its bytes spends
    // no request token.
    const auto cost = static_cast<double>(bytes);
    if (!requests_.can(now_ms) || !bytes_.can(now_ms, cost)) return false;
    return requests_.allow(now_ms) && bytes_.allow(now_ms, cost);
}

}  // namespace veil::node
