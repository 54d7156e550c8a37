#include "veil/proto/store_work.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "veil/proto/owner_auth.hpp"
#include "veil/sdk/clock.hpp"

namespace veil::proto::node {

namespace {

// domain ‖ mailbox ‖ u16 ns ‖ message hash ‖ u64 ttl ‖ u64 timestamp ‖ u64 nonce: one BLAKE2b
// block (108 bytes).
constexpr std::size_t kNonceOffset = kStoreWorkDomain.size() + 32 + 2 + 32 + 8 + 8;
using WorkInput = std::array<std::uint8_t, kNonceOffset + 8>;

void put_be(std::uint8_t* out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<std::uint8_t>(v);
}

WorkInput work_input(const PublicKey& mailbox, std::uint16_t ns, const Hash& message_hash, std::uint64_t ttl_ms,
                     std::uint64_t timestamp_ms) {
    WorkInput in{};
    auto* p = in.data();
    std::memcpy(p, kStoreWorkDomain.data(), kStoreWorkDomain.size());
    p += kStoreWorkDomain.size();
    std::memcpy(p, mailbox.data(), 32);
    put_be(p + 32, ns, 2);
    std::memcpy(p + 34, message_hash.data(), 32);
    put_be(p + 66, ttl_ms, 8);
    put_be(p + 74, timestamp_ms, 8);
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

Hash store_work_hash(const StoreRequest& q, const Hash& message_hash, const StoreWork& work) {
    auto in = work_input(q.mailbox, q.ns, message_hash, q.ttl_ms, work.timestamp_ms);
    put_be(in.data() + kNonceOffset, work.nonce, 8);
    Hash h{};
    crypto_generichash(h.data(), h.size(), in.data(), in.size(), nullptr, 0);
    return h;
}

std::uint64_t proven_store_work(const PublicKey& mailbox, std::uint16_t ns, const Hash& message_hash,
                                std::uint64_t ttl_ms, const StoreWork& work) {
    auto in = work_input(mailbox, ns, message_hash, ttl_ms, work.timestamp_ms);
    // value <= max / W  <=>  W <= max / value: the largest W whose target the value is under.
    const std::uint64_t value = work_value(in, work.nonce);
    return value == 0 ? std::numeric_limits<std::uint64_t>::max() : std::numeric_limits<std::uint64_t>::max() / value;
}

bool store_work_meets(const StoreRequest& q, const Hash& message_hash, std::uint64_t work) {
    if (work == 0) return true;
    if (!q.work) return false;
    return proven_store_work(q.mailbox, q.ns, message_hash, q.ttl_ms, *q.work) >= work;
}

bool store_work_live(const StoreWork& work, std::uint64_t ttl_ms, std::uint64_t now_ms, std::uint64_t clock_window_ms) {
    if (work.timestamp_ms > now_ms && work.timestamp_ms - now_ms > clock_window_ms) return false;  // from the future
    return work.timestamp_ms + ttl_ms > now_ms;  // the stretch it bought has not ended
}

bool solve_store_work(StoreRequest& q, std::uint64_t work, const std::atomic<bool>* stop, std::uint64_t max_tries,
                      std::optional<std::uint64_t> timestamp_ms) {
    const std::uint64_t stamp = timestamp_ms ? *timestamp_ms : sdk::now_ms();
    auto in = work_input(q.mailbox, q.ns, message_hash(q.mailbox, q.ns, q.data), q.ttl_ms, stamp);
    const std::uint64_t target = target_for(std::max<std::uint64_t>(work, 1));
    std::uint64_t nonce = 0;
    randombytes_buf(&nonce, sizeof nonce);
    for (std::uint64_t tries = 0; tries < max_tries; ++tries, ++nonce) {
        if (stop && (tries & 0xFFF) == 0 && stop->load(std::memory_order_relaxed)) return false;
        if (work_value(in, nonce) <= target) {
            q.work = StoreWork{stamp, nonce};
            return true;
        }
    }
    return false;
}

Bytes encode_work_auth(const StoreRequest& q) {
    if (!q.work) throw std::invalid_argument("store carries no work");
    return wire::Writer{}.u8(kWorkStoreAuth).u64(q.ttl_ms).u64(q.work->timestamp_ms).u64(q.work->nonce).take();
}

std::optional<PaidStore> open_work_auth(ByteView auth, const PublicKey& mailbox, std::uint16_t ns,
                                        const Hash& message_hash) {
    PaidStore p;
    try {
        wire::Reader r(auth);
        if (r.u8() != kWorkStoreAuth) return std::nullopt;
        p.ttl_ms = r.u64();
        p.work.timestamp_ms = r.u64();
        p.work.nonce = r.u64();
        r.expect_done();
    } catch (const wire::DecodeError&) {
        return std::nullopt;
    }
    p.proven_work = proven_store_work(mailbox, ns, message_hash, p.ttl_ms, p.work);
    return p;
}

}  // namespace veil::proto::node
