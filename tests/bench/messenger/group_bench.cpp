// Group messages against one-to-one messages, as ratios measured in the same run (docs/groups.md):
// - the sender's CPU per message: GroupBook::send (sender-key step, signature, one sealed envelope
//   for the group mailbox) / a one-to-one message to a person with one device (one ratchet
//   message, one sealed envelope): the cheapest one-to-one message there is;
// - the bytes the sender uploads and the network stores: one envelope to one swarm (group) / one
//   envelope per member (what a pairwise fan-out would send);
// - a removal: the admin's new state sealed to every remaining member over pairwise sessions, and
//   each remaining member's new chain to every other one, in envelopes and in one-to-one
//   message times.
// Every member has one device here; with d devices each, pairwise counts grow by d (and d^2).
// Usage: veil_bench_messenger_group [seconds per measurement, default 1]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "group_book.hpp"
#include "veil/crypto/ratchet.hpp"

using namespace veil;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_per_run = 1.0;

double rate(const std::function<void()>& op) {
    std::size_t n = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        op();
        ++n;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds_per_run);
    return static_cast<double>(n) / elapsed;
}

// One pairwise message: a ratchet message sealed to one device.
struct Pairwise {
    crypto::RatchetSession session;
    crypto::DhKeyPair recipient = crypto::DhKeyPair::generate();
    Pairwise()
        : session(crypto::RatchetSession::initiate(crypto::SecretBytes::random(32), wire::Bytes(128, 1),
                                                   crypto::DhKeyPair::generate().pub)) {}
    std::size_t send(const crypto::DeviceCertificate& me, wire::ByteView plaintext) {
        auto m = session.encrypt(plaintext);
        return crypto::seal(me, m.encode(), recipient.pub, recipient.pub, 0, 60'000).encode().size();
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) seconds_per_run = std::atof(argv[1]);
    if (sodium_init() < 0) return 1;
    const wire::Bytes text(200, 'x');  // a typical chat line with its message header
    auto me = crypto::Identity::generate();
    auto device = crypto::DeviceKeys::generate();
    const auto cert = crypto::DeviceCertificate::issue(me, device, 1);

    Pairwise one;
    std::size_t one_bytes = 0;
    double one_rate = rate([&] { one_bytes = one.send(cert, text); });
    std::printf("one-to-one message (1 device): %.0f/s, %zu bytes uploaded and stored (x swarm size)\n",
                one_rate, one_bytes);
    std::printf("%6s | %12s | %9s | %9s | %12s | %18s | %14s | %14s\n", "group", "group msg/s", "CPU ratio",
                "bytes", "bytes ratio", "fan-out bytes", "removal: envs", "removal CPU");
    for (std::size_t n : {10, 100, 1000}) {
        std::vector<crypto::VeilId> members;
        std::vector<crypto::Identity> people;
        for (std::size_t i = 1; i < n; ++i) {
            people.push_back(crypto::Identity::generate());
            members.push_back(people.back().veil_id());
        }
        messenger::GroupBook book(me.veil_id());
        crypto::GroupId g{};
        (void)book.create(me, "bench", members, 1, g);
        std::vector<messenger::GroupDelivery> chains;
        (void)book.send(g, cert, text, 60'000, chains);  // the chain goes out once
        std::size_t group_bytes = 0;
        const double group_rate = rate([&] {
            std::vector<messenger::GroupDelivery> none;
            group_bytes = book.send(g, cert, text, 60'000, none).encode().size();
        });
        one_rate = (one_rate + rate([&] { one_bytes = one.send(cert, text); })) / 2;  // beside it, for noise
        // A removal: the admin signs the new state and seals it to the n - 2 remaining others;
        // then each of the n - 2 others seals its new chain to the n - 2 others (its own
        // other devices aside). Timed: the admin's part, and one member's rotation.
        std::vector<Pairwise> sessions(n - 2);
        const auto t0 = Clock::now();
        auto deliveries = book.remove(me, g, {members.front()}, 2);
        std::size_t state_bytes = 0;
        for (auto& s : sessions) state_bytes = s.send(cert, deliveries.front().payload.view());
        const double admin_s = std::chrono::duration<double>(Clock::now() - t0).count();
        const auto t1 = Clock::now();
        auto rotated = crypto::SenderChain::create(g, 2);
        const auto chain = rotated.distribution().encode();
        for (auto& s : sessions) s.send(cert, chain.view());
        const double member_s = std::chrono::duration<double>(Clock::now() - t1).count();
        const std::size_t envelopes = (n - 2) + (n - 2) * (n - 3);
        std::printf("%6zu | %12.0f | %9.2f | %9zu | %12.2f | %18zu | %14zu | admin %.1f ms (%.0f msgs, state %zu B), each member %.1f ms (%.0f msgs)\n",
                    n, group_rate, one_rate / group_rate, group_bytes,
                    static_cast<double>(group_bytes) / static_cast<double>(one_bytes), one_bytes * (n - 1), envelopes,
                    admin_s * 1e3, admin_s * one_rate, state_bytes, member_s * 1e3, member_s * one_rate);
    }
    std::printf("CPU ratio = group message time / one-to-one message time; bytes ratio = group envelope / "
                "one-to-one envelope; fan-out bytes = one envelope per other member (pairwise fan-out)\n");
    return 0;
}
