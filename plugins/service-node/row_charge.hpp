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

/// What a row pays in advance, while it refers to no kept owner proof, for the proof that may
/// later delete or shorten it: the base of a dense proof (a one-row delete or expire is ~190
/// bytes). Released when the row refers to a kept proof, so keeping the proofs other members
/// need to converge never grows the node past what its stores paid for (docs/service-node.md
/// §Proofs paid in advance).
constexpr std::uint64_t kProofShareBytes = 256;

/// A row's share of the node's total (Limits::max_stored_bytes): its pages (row_charge_bytes),
/// and kProofShareBytes while it refers to no kept proof.
[[nodiscard]] std::uint64_t row_total_bytes(const PageLayout& page, std::uint64_t blob_bytes, bool has_proof);

}  // namespace veil::node
