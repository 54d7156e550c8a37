// Cost of answering one catch-up bucket page: a range scan of the hash index with the proofs
// joined in (MessageStore::bucket_page), against what a page cost before in the same run (every
// state of the store read, the bucket sorted, one proof query per state of the page).
// Usage: veil_bench_node_bucket_page [messages]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "store.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil::node;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;
constexpr std::size_t kPage = 200;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A page as it was built before: all states, the bucket sorted, a proof query per state.
BucketPage page_before(MessageStore& store, std::uint8_t bucket, const std::optional<Hash>& after) {
    auto states = bucket_states(store.states(kNow, {}), bucket);
    std::sort(states.begin(), states.end(), [](const auto& a, const auto& b) { return a.hash < b.hash; });
    BucketPage page;
    for (const auto& s : states) {
        if (after && !(*after < s.hash)) continue;
        if (page.states.size() >= kPage) {
            page.more = true;
            break;
        }
        ReplicaOp op{s, std::nullopt, nullptr};
        if (auto p = store.proof_of(s.hash)) op.proof = std::make_shared<const Bytes>(std::move(*p));
        page.states.push_back(std::move(op));
    }
    return page;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 50'000;
    Limits limits;
    limits.max_messages_per_mailbox = n;
    limits.max_bytes_per_mailbox = n * 64;
    MessageStore store(StoreOptions{":memory:", "", false}, limits);
    PublicKey mailbox{};
    mailbox[0] = 1;
    for (std::size_t i = 0; i < n; ++i) {
        Bytes data{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i >> 16)};
        store.store(StoredMessage{mailbox, 0, message_hash(mailbox, 0, data), kNow + 600'000, data}, kNow);
    }
    // Every page of bucket 7 (about n / 256 states), walked with the cursor, as a peer asks.
    auto walk = [&](auto&& page_of) {
        std::size_t pages = 0;
        std::size_t states = 0;
        std::optional<Hash> after;
        auto t = Clock::now();
        for (;;) {
            BucketPage page = page_of(after);
            ++pages;
            states += page.states.size();
            if (!page.more || page.states.empty()) break;
            after = page.states.back().state.hash;
        }
        return std::tuple{seconds_since(t), pages, states};
    };
    auto [before_s, before_pages, before_states] = walk([&](const auto& after) { return page_before(store, 7, after); });
    auto [after_s, after_pages, after_states] =
        walk([&](const auto& after) { return store.bucket_page(7, after, kNow, {}, kPage, kMaxPageBytes); });
    std::printf("store of %zu states; bucket 7: %zu states in %zu pages of %zu\n", n, after_states, after_pages, kPage);
    std::printf("before (all states read, a proof query per state): %.2f ms a page\n", 1000 * before_s / double(before_pages));
    std::printf("after  (range scan, proofs joined):                 %.3f ms a page\n", 1000 * after_s / double(after_pages));
    std::printf("ratio before / after: %.0f x\n", before_s / after_s);
    return before_states == after_states ? 0 : 1;
}
