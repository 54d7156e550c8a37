#include "sender_order.hpp"

#include <algorithm>

namespace veil::messenger {

void SenderOrder::take_ready(Stream& s, std::vector<MessageRecord>& out) {
    for (auto it = s.held.begin(); it != s.held.end() && it->first == s.shown + 1; it = s.held.erase(it)) {
        s.shown = it->first;
        out.push_back(std::move(it->second.record));
    }
}

void SenderOrder::release(Stream& s, std::vector<MessageRecord>& out) {
    while (!s.held.empty()) {
        s.shown = s.held.begin()->first - 1;
        take_ready(s, out);
    }
}

std::vector<MessageRecord> SenderOrder::arrive(const crypto::PublicKey& device, MessageRecord r, std::uint64_t now_ms) {
    std::vector<MessageRecord> out;
    const auto seq = r.message.seq;
    if (seq == 0) {  // an older sender numbers nothing
        out.push_back(std::move(r));
        return out;
    }
    auto [it, first] = streams_.try_emplace(Key{device, r.peer});
    auto& s = it->second;
    // The first message seen of a stream sets where it stands; one at or below it is late (or
    // its sender's numbers restarted), and one whose number is held already is another message.
    if (first) s.shown = seq - 1;
    if (seq <= s.shown || s.held.contains(seq)) {
        out.push_back(std::move(r));
        return out;
    }
    if (seq == s.shown + 1) {
        s.shown = seq;
        out.push_back(std::move(r));
        take_ready(s, out);
        return out;
    }
    s.held.emplace(seq, Held{std::move(r), now_ms + gap_wait_ms_});
    // A stream that holds too much gives up on its gaps: memory stays bounded whatever it sends.
    if (s.held.size() > kMaxHeldPerStream) release(s, out);
    return out;
}

std::vector<MessageRecord> SenderOrder::expire(std::uint64_t now_ms) {
    std::vector<MessageRecord> out;
    for (auto& entry : streams_) {
        auto& s = entry.second;  // a named reference: clang 14 cannot capture a structured binding
        // The gap before the lowest held message is given up once any held one has waited its
        // time; so is the next one if a message behind it has waited too.
        auto due = [&s, now_ms] {
            return std::any_of(s.held.begin(), s.held.end(), [now_ms](const auto& h) { return h.second.until_ms <= now_ms; });
        };
        while (!s.held.empty() && due()) {
            s.shown = s.held.begin()->first - 1;
            take_ready(s, out);
        }
    }
    return out;
}

std::vector<MessageRecord> SenderOrder::release_all() {
    std::vector<MessageRecord> out;
    for (auto& [key, s] : streams_) release(s, out);
    return out;
}

std::optional<std::uint64_t> SenderOrder::next_deadline() const {
    std::optional<std::uint64_t> out;
    for (const auto& [key, s] : streams_) {
        for (const auto& [seq, h] : s.held) {
            if (!out || h.until_ms < *out) out = h.until_ms;
        }
    }
    return out;
}

}  // namespace veil::messenger
