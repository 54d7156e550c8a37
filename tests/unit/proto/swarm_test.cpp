#include <catch2/catch.hpp>

#include <vector>

#include "veil/proto/swarm.hpp"
#include "veil/wire/codec.hpp"

using namespace veil::proto;

namespace {
PublicKey key(std::string_view hex) {
    auto b = veil::wire::from_hex(hex);
    PublicKey k{};
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}
SwarmId swarm_of(std::string_view hex, const std::vector<SwarmId>& ids) { return swarm_for_mailbox(ids, key(hex)); }
}  // namespace

// Known answers published with Oxen's storage server and libsession (pubkey_to_swarm_space).
TEST_CASE("swarm - ring position of known keys", "[node][swarm]") {
    struct Row {
        const char* hex;
        std::uint64_t pos;
    };
    const Row rows[] = {
        {"3506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648ULL},
        {"cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163ULL},
        {"d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc", 2144983569669512198ULL},
        {"0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3", 9690840703409570833ULL},
        {"ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48", 4532060000165252872ULL},
        {"eeeeeeeeeeeeeeee777777777777777711111111111111118888888888888888", 0},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0},
        {"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 1},
        {"ffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffff", 1ULL << 63},
        {"000000000000000000000000000000000000000000000000ffffffffffffffff", ~0ULL},
        {"0000000000000000000000000000000000000000000000000123456789abcdef", 0x0123456789abcdefULL},
    };
    for (const auto& r : rows) {
        INFO(r.hex);
        CHECK(swarm_space_position(key(r.hex)) == r.pos);
    }
}

TEST_CASE("swarm - nearest swarm, exact hits and nearest", "[node][swarm]") {
    std::vector<SwarmId> ids{100, 200, 300, 399, 498, 596, 694};
    const std::string z(48, '0');
    CHECK(swarm_of(z + "0000000000000064", ids) == 100);
    CHECK(swarm_of(z + "00000000000000c8", ids) == 200);
    CHECK(swarm_of(z + "00000000000001f2", ids) == 498);
    CHECK(swarm_of(z + "0000000000000000", ids) == 100);
    CHECK(swarm_of(z + "0000000000000001", ids) == 100);
}

TEST_CASE("swarm - wrap-around on the ring", "[node][swarm]") {
    std::vector<SwarmId> ids{100, 200, 300, 399, 498, 596, 694};
    const std::string z(48, '0');
    CHECK(swarm_of(z + "8000000000000000", ids) == 694);
    CHECK(swarm_of(z + "a000000000000000", ids) == 100);
    CHECK(swarm_of(z + "ffffffffffffffff", ids) == 100);
    CHECK(swarm_of(z + "fffffffffffffffe", ids) == 100);
    // With a swarm at 0, the top of the ring is 1 away from it (no overflow in the distance).
    std::vector<SwarmId> with_zero{0, 100, 200, 300, 399, 498, 596, 694, ~0ULL - 19};
    CHECK(swarm_of(z + "ffffffffffffffff", with_zero) == 0);
    CHECK(swarm_of(z + "fffffffffffffffe", with_zero) == 0);
}

TEST_CASE("swarm - ties go to the swarm below (the lower id inside the ring)", "[node][swarm]") {
    std::vector<SwarmId> ids{100, 200, 300, 399, 498, 596, 694};
    const std::string z(48, '0');
    CHECK(swarm_of(z + "0000000000000095", ids) == 100);
    CHECK(swarm_of(z + "0000000000000096", ids) == 100);  // 150: tie between 100 and 200
    CHECK(swarm_of(z + "0000000000000097", ids) == 200);
    CHECK(swarm_of(z + "00000000000000fa", ids) == 200);  // 250
    CHECK(swarm_of(z + "00000000000000fb", ids) == 300);
    CHECK(swarm_of(z + "000000000000015d", ids) == 300);  // 349: nearer to 300
    CHECK(swarm_of(z + "000000000000015e", ids) == 399);
    CHECK(swarm_of(z + "0000000000000223", ids) == 498);  // 547: tie between 498 and 596
    CHECK(swarm_of(z + "0000000000000224", ids) == 596);
    // The long-way midpoint between 694 and 100 goes down, i.e. to 694.
    CHECK(swarm_of(z + "800000000000018d", ids) == 694);
    CHECK(swarm_of(z + "800000000000018e", ids) == 100);
    // A swarm at 2^64-20: the wrapped midpoint to 100 is 40, and the tie goes down (to -20).
    ids.push_back(~0ULL - 19);
    CHECK(swarm_of(z + "0000000000000027", ids) == ids.back());
    CHECK(swarm_of(z + "0000000000000028", ids) == ids.back());
    CHECK(swarm_of(z + "0000000000000029", ids) == 100);
}

TEST_CASE("swarm - no swarms and one swarm", "[node][swarm]") {
    CHECK(nearest_swarm({}, 5) == kInvalidSwarm);
    std::vector<SwarmId> one{42};
    CHECK(nearest_swarm(one, 0) == 42);
    CHECK(nearest_swarm(one, ~0ULL) == 42);
}
