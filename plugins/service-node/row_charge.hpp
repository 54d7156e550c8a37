#pragma once
/// What one message row costs the node's disk, the unit of Limits::max_stored_bytes
/// (docs/service-node.md §Pricing the node's bytes): modelled on SQLite's b-tree layout, so the
/// file stays near the bytes charged whatever the row size.

#include <cstdint>

namespace veil::node {

/// The store file's pages: their size, and the bytes of each SQLite may use (an encrypted page
/// keeps a reserve for its IV and MAC).
struct PageLayout {
    std::uint32_t page_bytes = 4096;
    std::uint32_t usable_bytes = 4096;
};

/// What every row costs beyond its table cell: its entries in the four indexes and their pages'
/// slack. Measured on the SQLCipher store and rounded up (docs: §Pricing the node's bytes).
constexpr std::uint64_t kRowIndexBytes = 128;

/// A row's fixed columns (hash, mailbox, namespace, times) and its record header.
constexpr std::uint64_t kRowRecordBytes = 96;

/// What a row of `blob_bytes` (data and store auth) is charged: its overflow pages, its share of
/// a leaf page (a row over half a page's room takes a page alone), and kRowIndexBytes; never
/// less than kRowOverheadBytes (limits.hpp) plus its blobs.
[[nodiscard]] std::uint64_t row_charge_bytes(const PageLayout& page, std::uint64_t blob_bytes);

/// One owner proof's share, paid in advance by each row it may change: the larger one-row proof
/// (an expire of one hash is 186 bytes, a delete 178), rounded up.
constexpr std::uint64_t kProofShareBytes = 192;

/// The proof shares a row owes (docs/service-node.md §Proofs paid in advance): a live row two, for
/// the expire and the delete that may follow it, until it refers to a kept proof (an expire
/// proof: a live row's proof is one), then one, for the delete; a tombstone none (nothing changes
/// it any more). So keeping the proofs other members need to converge never grows the node past
/// what its stores paid for, even a delete after an expire.
[[nodiscard]] constexpr std::uint64_t proof_shares_owed(bool live, bool has_proof) {
    return !live ? 0 : has_proof ? 1 : 2;
}

/// What a new live row pays in advance: both its shares.
constexpr std::uint64_t kNewRowShareBytes = 2 * kProofShareBytes;

/// A row's share of the node's total (Limits::max_stored_bytes): its pages (row_charge_bytes),
/// and the proof shares it owes.
[[nodiscard]] std::uint64_t row_total_bytes(const PageLayout& page, std::uint64_t blob_bytes, bool live, bool has_proof);

}  // namespace veil::node
