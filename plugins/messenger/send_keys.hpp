#pragma once
/// What one send needs to know of the recipient and of our own other devices, read as little
/// and as early as possible (issue 19: each read is an onion round trip, 320 ms over 40 ms links):
/// - the device list: read from the swarm, except in a resident client while the list held for
///   that person was read less than `peer_list_refresh_s` ago (the same bound issue 14 sets for
///   a revocation to reach a receiver); the own list likewise, by when this process last read it;
/// - the pre-key bundles: read only when the list names an active device without a session (a
///   new session needs one; an established one never does);
/// - the recipient's and our own keys at once, not one after the other.
/// Within one run of the send queue, each person's keys are gathered once (a burst reads once).
/// Loop thread; the reads are functions so that a test can count them.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "account.hpp"
#include "errors.hpp"
#include "published.hpp"
#include "veil/sdk/clock.hpp"

namespace veil::messenger {

using AccountPtr = std::shared_ptr<Account>;
using Bundles = std::map<crypto::PublicKey, crypto::PreKeyBundle>;

/// What a sender knows of a person for one send.
struct PersonKeys final {
    crypto::DeviceList list;
    Bundles bundles;        ///< empty when no session is to start
    bool list_read = true;  ///< false: the held list, reused while fresh (not read for this send)
};

/// The network reads a send may make (Service's in the client: service_reads, send_queue.cpp).
struct KeyReads final {
    /// Every valid list the swarm holds, lowest version first (Service::fetch_device_lists): of our
    /// own identity each is joined (a fork), of another the newest is used.
    std::function<void(const crypto::VeilId&, std::function<void(std::vector<crypto::DeviceList>)>, Fail)> device_list;
    std::function<void(const crypto::VeilId&, const crypto::DeviceList&, std::function<void(Bundles)>, Fail)> bundles;
};

class SendKeys final {
public:
    /// `clock`: milliseconds since the Unix epoch (a test's own clock, else the SDK's).
    explicit SendKeys(KeyReads reads, std::function<std::uint64_t()> clock = &sdk::now_ms)
        : reads_(std::move(reads)), clock_(std::move(clock)) {}

    /// Reuse a device list read less than max_age_ms ago instead of reading it (resident
    /// clients: their timer keeps held lists that young); 0, the default, reads for every run.
    void reuse_lists_younger_than(std::uint64_t max_age_ms) { max_age_ms_ = max_age_ms; }
    /// A new run of the send queue: the keys gathered by the last one are not reused as such.
    void new_run() { run_.clear(); }

    /// The recipient's keys and ours for one message, gathered in parallel; our own list, when
    /// read, is adopted by the account first. `fail_theirs` gets a failure to learn the
    /// recipient's keys (not_found: no list published), `fail` one of our own.
    void gather(const AccountPtr& account, const crypto::VeilId& to,
                std::function<void(PersonKeys theirs, PersonKeys own)> done, Fail fail_theirs, Fail fail);
    /// One person's keys (ours when who is the account's ID).
    void person(const AccountPtr& account, const crypto::VeilId& who, std::function<void(PersonKeys)> done,
                Fail fail);

private:
    /// The list this send may use without reading, if any.
    [[nodiscard]] std::optional<crypto::DeviceList> fresh_list(const Account& account, const crypto::VeilId& who,
                                                               std::uint64_t now_ms) const;
    /// Adds the bundles `keys` needs (none for an established session), then done.
    void complete(const AccountPtr& account, const crypto::VeilId& who, PersonKeys keys,
                  std::function<void(PersonKeys)> done, Fail fail);

    KeyReads reads_;
    std::function<std::uint64_t()> clock_;
    std::uint64_t max_age_ms_ = 0;
    std::optional<std::uint64_t> own_read_ms_;  // when this process last read our own list
    std::map<crypto::VeilId, PersonKeys> run_;
};

}  // namespace veil::messenger
