// Random sequences of send, deliver, drop, reorder, duplicate, tamper and save/restore between
// two ratchet sessions (seeded, so a failure names its seed and replays).
#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "ratchet_helpers.hpp"
#include "test_util.hpp"
#include "veil/crypto/error.hpp"

using namespace veil::crypto;
using namespace veil::crypto::test;

namespace {

constexpr std::uint64_t now = 1'700'000'000'000;

struct InFlight {
    int id;
    RatchetMessage message;
};

struct Side {
    RatchetSession* session;
    std::vector<InFlight> inbox;      // sent to this side, not yet delivered
    std::vector<InFlight> delivered;  // already decrypted by this side
};

bool throws(RatchetSession& s, const RatchetMessage& m) {
    try {
        s.decrypt(m, now);
    } catch (const Error&) {
        return true;
    }
    return false;
}

// One random run; returns the number of messages delivered.
int run(std::uint32_t seed, int steps) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto [alice, bob] = make_ratchet_pair();
    Side sides[2] = {{&alice, {}, {}}, {&bob, {}, {}}};
    std::set<int> decrypted;
    int next_id = 0;
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

    for (int step = 0; step < steps; ++step) {
        int who = static_cast<int>(pick(2));
        Side& me = sides[who];
        Side& peer = sides[1 - who];
        switch (pick(7)) {
            case 0:
            case 1: {  // send
                if (!me.session->can_send()) break;
                int id = next_id++;
                peer.inbox.push_back({id, me.session->encrypt(bytes_of("msg " + std::to_string(id)))});
                break;
            }
            case 2:
            case 3: {  // deliver any in-flight message (reordering)
                if (me.inbox.empty()) break;
                auto idx = pick(me.inbox.size());
                InFlight m = std::move(me.inbox[idx]);
                me.inbox.erase(me.inbox.begin() + static_cast<std::ptrdiff_t>(idx));
                auto plain = me.session->decrypt(m.message, now);
                REQUIRE(text_of(plain) == "msg " + std::to_string(m.id));
                REQUIRE(decrypted.insert(m.id).second);  // exactly once
                // Forward secrecy: a snapshot taken now holds no key for m.
                auto snapshot = RatchetSession::deserialize(me.session->serialize().view());
                REQUIRE(throws(snapshot, m.message));
                me.delivered.push_back(std::move(m));
                break;
            }
            case 4: {  // drop
                if (!me.inbox.empty()) me.inbox.erase(me.inbox.begin() + static_cast<std::ptrdiff_t>(pick(me.inbox.size())));
                break;
            }
            case 5: {  // duplicate or tamper: fails and changes nothing
                auto before = me.session->serialize();
                if (!me.delivered.empty() && pick(2) == 0) {
                    REQUIRE(throws(*me.session, me.delivered[pick(me.delivered.size())].message));
                } else if (!me.inbox.empty()) {
                    auto bad = me.inbox[pick(me.inbox.size())].message;
                    bad.ciphertext[pick(bad.ciphertext.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
                    REQUIRE(throws(*me.session, bad));
                }
                REQUIRE(same_state(*me.session, before));
                break;
            }
            case 6: {  // save and restore
                *me.session = RatchetSession::deserialize(me.session->serialize().view());
                break;
            }
        }
        REQUIRE(me.session->skipped_key_count() <= RatchetSession::max_skipped_keys);
    }

    // Post-compromise security: steal Bob's state; once both sides have made fresh ratchet keys
    // (two round trips in the worst case), even a thief who saw every message is locked out.
    auto stolen = RatchetSession::deserialize(bob.serialize().view());
    std::vector<RatchetMessage> to_bob;
    for (int round = 0; round < 2; ++round) {
        to_bob.push_back(alice.encrypt(bytes_of("heal a")));
        REQUIRE(text_of(bob.decrypt(to_bob.back(), now)) == "heal a");
        REQUIRE(text_of(alice.decrypt(bob.encrypt(bytes_of("heal b")), now)) == "heal b");
    }
    auto secret = alice.encrypt(bytes_of("secret"));
    REQUIRE(text_of(bob.decrypt(secret, now)) == "secret");
    for (const auto& m : to_bob) (void)throws(stolen, m);  // the thief may follow these
    REQUIRE(throws(stolen, secret));
    return static_cast<int>(decrypted.size());
}

}  // namespace

TEST_CASE("crypto - ratchet properties hold over random schedules", "[crypto]") {
    int delivered = 0;
    for (std::uint32_t seed = 1; seed <= 25; ++seed) delivered += run(seed, 120);
    CHECK(delivered > 100);
}

TEST_CASE("crypto - ratchet properties hold over long random schedules", "[crypto][slow]") {
    int delivered = 0;
    for (std::uint32_t seed = 1000; seed < 1300; ++seed) delivered += run(seed, 600);
    CHECK(delivered > 10000);
}
