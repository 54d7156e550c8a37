#include "veil/proto/store_work.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "veil/proto/owner_auth.hpp"

namespace veil::proto::node {

namespace {

// domain ‖ mailbox ‖ u16 ns ‖ message hash ‖ u64 ttl ‖ u64 nonce: one BLAKE2b block (100 bytes).
constexpr std::size_t kNonceOffset = kStoreWorkDomain.size() + 32 + 2 + 32 + 8;
using WorkInput = std::array<std::uint8_t, kNonceOffset + 8>;

void put_be(std::uint8_t* out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<std::uint8_t>(v);
}

WorkInput work_input(const StoreRequest& q, const Hash& message_hash) {
    WorkInput in{};
    auto* p = in.data();
    std::memcpy(p, kStoreWorkDomain.data(), kStoreWorkDomain.size());
    p += kStoreWorkDomain.size();
    std::memcpy(p, q.mailbox.data(), 32);
    put_be(p + 32, q.ns, 2);
    std::memcpy(p + 34, message_hash.data(), 32);
    put_be(p + 66, q.ttl_ms, 8);
    return in;
}

// The first 8 bytes of the work hash of `in` with `nonce`, big-endian.
std::uint64_t work_value(WorkInput& in, std::uint64_t nonce) {
    put_be(in.data() + kNonceOffset, nonce, 8);
    std::array<std::uint8_t, 32> h{};
    crypto_generichash(h.data(), h.size(), in.data(), in.size(), nullptr, 0);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | h[static_cast<std::size_t>(i)];
    return v;
}

std::uint64_t target_for(std::uint64_t work) { return std::numeric_limits<std::uint64_t>::max() / work; }

}  // namespace

std::uint64_t required_store_work(const WorkPricing& pricing, const MailboxFill& fill, std::size_t data_bytes,
                                  std::uint64_t ttl_ms) {
    const double max_messages = static_cast<double>(std::max<std::uint64_t>(fill.max_messages, 1));
    const double max_bytes = static_cast<double>(std::max<std::uint64_t>(fill.max_bytes, 1));
    const double full = std::max(static_cast<double>(fill.messages) / max_messages,
                                 static_cast<double>(fill.bytes) / max_bytes);
    if (full < pricing.free_fraction || pricing.free_fraction >= 1) return 0;  // 1: pricing off
    const double headroom = std::max(1.0 - full, 1.0 / max_messages);
    const double pressure = std::pow(std::max(1.0 - pricing.free_fraction, 0.0) / headroom, pricing.exponent);
    // Price per share of the quota: a message the size of several average ones pays for each.
    const double slot_bytes = max_bytes / max_messages;
    const double slots = std::max(1.0, std::ceil(static_cast<double>(data_bytes) / slot_bytes));
    const double ttl_share = static_cast<double>(std::max(ttl_ms, pricing.min_ttl_ms)) /
                             static_cast<double>(std::max<std::uint64_t>(pricing.full_ttl_ms, 1));
    const double work = std::ceil(pricing.base_work * pressure * slots * ttl_share);
    if (!(work < static_cast<double>(kMaxStoreWork))) return kMaxStoreWork;  // also NaN
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(work));
}

Hash store_work_hash(const StoreRequest& q, const Hash& message_hash, std::uint64_t nonce) {
    auto in = work_input(q, message_hash);
    put_be(in.data() + kNonceOffset, nonce, 8);
    Hash h{};
    crypto_generichash(h.data(), h.size(), in.data(), in.size(), nullptr, 0);
    return h;
}

bool store_work_meets(const StoreRequest& q, const Hash& message_hash, std::uint64_t work) {
    if (work == 0) return true;
    if (!q.work_nonce) return false;
    auto in = work_input(q, message_hash);
    return work_value(in, *q.work_nonce) <= target_for(work);
}

bool solve_store_work(StoreRequest& q, std::uint64_t work, const std::atomic<bool>* stop, std::uint64_t max_tries) {
    auto in = work_input(q, message_hash(q.mailbox, q.ns, q.data));
    const std::uint64_t target = target_for(std::max<std::uint64_t>(work, 1));
    std::uint64_t nonce = 0;
    randombytes_buf(&nonce, sizeof nonce);
    for (std::uint64_t tries = 0; tries < max_tries; ++tries, ++nonce) {
        if (stop && (tries & 0xFFF) == 0 && stop->load(std::memory_order_relaxed)) return false;
        if (work_value(in, nonce) <= target) {
            q.work_nonce = nonce;
            return true;
        }
    }
    return false;
}

}  // namespace veil::proto::node
