#pragma once
/// Shows each sending device's messages of a conversation in the order it wrote them (issue 16).
/// A message can reach the receiver after later ones: the receiver read a swarm member that missed
/// it (killed or cut while it was stored, caught up later), or the sender's queue held it while
/// later ones went. Each shown message carries its writer's sequence number (ChatMessage::seq,
/// per device and conversation); a message that arrives with a gap before it is held until the
/// gap fills, for at most the wait given, then shown anyway (what is missing may never come: a
/// message dropped by its sender). Holding only delays showing: the caller saves every message
/// at once. A message at or below what was shown (late past its wait, a sender whose numbers
/// restarted) and one without a number are shown at once. What a stream has shown is known from
/// the first message this object sees of it (kept in memory: after a restart the first one sets
/// it). A hostile sender can only delay its own device's messages, by at most the wait, and holds
/// at most kMaxHeldPerStream. Plain data; loop-thread only.

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "record.hpp"
#include "veil/crypto/keys.hpp"

namespace veil::messenger {

class SenderOrder final {
public:
    /// Messages one stream may hold while a gap waits; one more shows them all.
    static constexpr std::size_t kMaxHeldPerStream = 256;

    explicit SenderOrder(std::uint64_t gap_wait_ms) : gap_wait_ms_(gap_wait_ms) {}

    /// A message `device` wrote, just saved: what may be shown now, in order (it, and the held
    /// ones it completes), or nothing (held).
    std::vector<MessageRecord> arrive(const crypto::PublicKey& device, MessageRecord r, std::uint64_t now_ms);
    /// The held messages whose wait has run out at now_ms, with those their release completes, in order.
    std::vector<MessageRecord> expire(std::uint64_t now_ms);
    /// Every held message, in order per stream (a one-shot command ends).
    std::vector<MessageRecord> release_all();
    /// When the earliest wait runs out, if anything is held.
    [[nodiscard]] std::optional<std::uint64_t> next_deadline() const;
    [[nodiscard]] bool holding() const { return next_deadline().has_value(); }

private:
    struct Held {
        MessageRecord record;
        std::uint64_t until_ms = 0;
    };
    struct Stream {
        std::uint64_t shown = 0;            // highest seq shown in order
        std::map<std::uint64_t, Held> held;  // by seq, all above shown + 1
    };
    using Key = std::tuple<crypto::PublicKey, crypto::VeilId>;  // writing device, conversation
    /// Moves what follows `s.shown` without a gap into `out`.
    static void take_ready(Stream& s, std::vector<MessageRecord>& out);
    /// Gives up every gap of `s`: all it holds into `out`, in order.
    static void release(Stream& s, std::vector<MessageRecord>& out);

    std::uint64_t gap_wait_ms_;
    std::map<Key, Stream> streams_;
};

}  // namespace veil::messenger
