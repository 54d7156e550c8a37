#include "row_charge.hpp"

#include <algorithm>

#include "limits.hpp"

namespace veil::node {

std::uint64_t row_charge_bytes(const PageLayout& page, std::uint64_t blob_bytes) {
    // SQLite's table leaf (fileformat2 §B-tree pages): a payload up to U - 35 bytes stays in the
    // cell; a larger one keeps M (or M plus the remainder, when that fits) there and fills
    // overflow pages of U - 4 bytes each.
    const std::uint64_t usable = page.usable_bytes;
    const std::uint64_t payload = kRowRecordBytes + blob_bytes;
    const std::uint64_t max_local = usable - 35;
    const std::uint64_t min_local = (usable - 12) * 32 / 255 - 23;
    std::uint64_t local = payload;
    std::uint64_t overflow_pages = 0;
    if (payload > max_local) {
        const std::uint64_t spill = min_local + (payload - min_local) % (usable - 4);
        local = spill <= max_local ? spill : min_local;
        overflow_pages = (payload - local + usable - 5) / (usable - 4);
    }
    // A cell: two varints (~6 bytes), its local payload, an overflow pointer; its 2-byte pointer.
    const std::uint64_t cell = 6 + local + (overflow_pages > 0 ? 4 : 0) + 2;
    const std::uint64_t per_leaf = std::max<std::uint64_t>(1, (usable - 8) / cell);
    const std::uint64_t modelled = overflow_pages * page.page_bytes + page.page_bytes / per_leaf + kRowIndexBytes;
    return std::max(modelled, kRowOverheadBytes + blob_bytes);
}

std::uint64_t row_total_bytes(const PageLayout& page, std::uint64_t blob_bytes, bool live, bool has_proof) {
    return row_charge_bytes(page, blob_bytes) + proof_shares_owed(live, has_proof) * kProofShareBytes;
}

}  // namespace veil::node
