#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/device.hpp"
#include "veil/crypto/error.hpp"

using namespace veil::crypto;

namespace {
template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}
}  // namespace

TEST_CASE("crypto - a device certificate verifies against its identity only", "[crypto]") {
    auto alice = Identity::generate();
    auto mallory = Identity::generate();
    auto phone = DeviceKeys::generate();
    auto cert = DeviceCertificate::issue(alice, phone, 1000);
    CHECK_NOTHROW(cert.verify(alice.veil_id()));
    CHECK(cert.claimed_id() == alice.veil_id());
    CHECK(kind_of([&] { cert.verify(mallory.veil_id()); }) == ErrorKind::untrusted_key);

    auto decoded = DeviceCertificate::decode(cert.encode());
    CHECK(decoded == cert);
    auto tampered = cert;
    tampered.issued_ms += 1;
    CHECK(kind_of([&] { tampered.verify(alice.veil_id()); }) == ErrorKind::bad_signature);
    // A certificate pairing the device's Ed25519 key with someone else's X25519 key is refused.
    auto swapped = cert;
    swapped.device_dh_key = DeviceKeys::generate().dh_key();
    CHECK(kind_of([&] { swapped.verify(alice.veil_id()); }) == ErrorKind::untrusted_key);

    auto bytes = cert.encode();
    bytes.pop_back();
    CHECK(kind_of([&] { DeviceCertificate::decode(bytes); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - device keys survive storage", "[crypto]") {
    auto keys = DeviceKeys::generate();
    auto stored = keys.serialize();
    auto back = DeviceKeys::deserialize(stored.view());
    CHECK(back.signing_key() == keys.signing_key());
    CHECK(back.dh_key() == keys.dh_key());
    CHECK(kind_of([&] { DeviceKeys::deserialize(veil::wire::Bytes(10, 1)); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - the device list only moves forward and records revocation", "[crypto]") {
    auto alice = Identity::generate();
    auto phone = DeviceKeys::generate();
    auto laptop = DeviceKeys::generate();
    auto v1 = DeviceList{}.with_device(alice, phone, 100);
    auto v2 = v1.with_device(alice, laptop, 200);
    CHECK(v1.version() == 1);
    CHECK(v2.version() == 2);
    CHECK(v2.is_active(laptop.signing_key()));

    std::optional<DeviceList> held;
    held = DeviceList::accept_update(held, DeviceList::decode(v1.encode()), alice.veil_id(), 1000);
    held = DeviceList::accept_update(held, DeviceList::decode(v2.encode()), alice.veil_id(), 1000);
    CHECK(held->version() == 2);
    // Replaying the older list is refused, as is the same version again.
    CHECK(kind_of([&] { DeviceList::accept_update(held, v1, alice.veil_id(), 1000); }) == ErrorKind::stale_version);
    CHECK(kind_of([&] { DeviceList::accept_update(held, v2, alice.veil_id(), 1000); }) == ErrorKind::stale_version);

    auto v3 = v2.with_revoked(alice, laptop.signing_key(), 300);
    held = DeviceList::accept_update(held, v3, alice.veil_id(), 1000);
    CHECK_FALSE(held->is_active(laptop.signing_key()));
    CHECK(held->find(laptop.signing_key())->revoked_ms == 300);
    CHECK(held->is_active(phone.signing_key()));
    CHECK(kind_of([&] { (void)v3.with_revoked(alice, laptop.signing_key(), 400); }) == ErrorKind::revoked);
    CHECK(kind_of([&] { (void)v3.with_device(alice, laptop, 400); }) == ErrorKind::invalid_argument);

    // Someone else's identity cannot sign Alice's list, and a list from Mallory does not verify for Alice.
    auto mallory = Identity::generate();
    CHECK(kind_of([&] { (void)v3.with_device(mallory, DeviceKeys::generate(), 500); }) == ErrorKind::untrusted_key);
    auto mallory_list = DeviceList{}.with_device(mallory, phone, 1);
    CHECK(kind_of([&] { DeviceList::accept_update(held, mallory_list, alice.veil_id(), 1000); }) == ErrorKind::untrusted_key);

    // Any flipped byte breaks the signature or the decoding.
    auto bytes = v3.encode();
    for (std::size_t i = 1; i < bytes.size(); i += 7) {
        auto copy = bytes;
        copy[i] ^= 0x01;
        ErrorKind k = kind_of([&] { DeviceList::decode(copy).verify(alice.veil_id()); });
        CHECK(k != ErrorKind{});
    }
    CHECK(kind_of([&] { DeviceList{}.verify(alice.veil_id()); }) == ErrorKind::bad_signature);
}

// Issue 14: list versions start at the clock (a new chain is signed at its time in ms), so an
// unbounded one lets a list signed far ahead (a stolen seed, a clock years off) stay the newest
// for ever: no later list, a revocation included, could replace it.
TEST_CASE("crypto - a device list from the future or at 2^63 is refused", "[crypto]") {
    constexpr std::uint64_t now = 1'700'000'000'000;
    constexpr std::uint64_t day = 24ULL * 3600 * 1000;
    auto alice = Identity::generate();
    auto v1 = DeviceList{}.with_device(alice, DeviceKeys::generate(), now, now);
    std::optional<DeviceList> held = DeviceList::accept_update(std::nullopt, v1, alice.veil_id(), now);

    // A day ahead of the reader's clock is still taken (clocks drift); more is not.
    auto near = v1.with_device(alice, DeviceKeys::generate(), now, now + day);
    CHECK_FALSE(near.from_future(now));
    CHECK_NOTHROW(DeviceList::accept_update(held, near, alice.veil_id(), now));
    auto ahead = v1.with_device(alice, DeviceKeys::generate(), now, now + day + 1);
    CHECK(ahead.from_future(now));
    CHECK(kind_of([&] { DeviceList::accept_update(held, ahead, alice.veil_id(), now); }) == ErrorKind::too_large);
    // Once the reader's clock is there, it is an ordinary newer list.
    CHECK_NOTHROW(DeviceList::accept_update(held, ahead, alice.veil_id(), now + 2));

    // 2^63 and above never decode, and no list is signed there: version + 1 cannot wrap.
    auto top = v1.with_device(alice, DeviceKeys::generate(), now, DeviceList::max_version);
    CHECK(DeviceList::decode(top.encode()).version() == DeviceList::max_version);
    CHECK(kind_of([&] { (void)top.with_device(alice, DeviceKeys::generate(), now); }) == ErrorKind::too_large);
    auto bytes = top.encode();
    bytes[1 + 32] = 0x80;  // the version's top byte (big-endian u64 after the format byte and the key)
    for (std::size_t i = 1 + 32 + 1; i < 1 + 32 + 8; ++i) bytes[i] = 0;
    CHECK(kind_of([&] { (void)DeviceList::decode(bytes); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - two forked device lists join at max + 1, every revocation kept", "[crypto]") {
    auto alice = Identity::generate();
    auto phone = DeviceKeys::generate();
    auto tablet = DeviceKeys::generate();
    auto laptop = DeviceKeys::generate();
    auto v3 = DeviceList{}.with_device(alice, phone, 100).with_device(alice, tablet, 200).with_device(alice, laptop, 300);
    // Two devices change version 3 each on its own: one revokes the tablet, the other the laptop
    // and adds a watch.
    auto a = v3.with_revoked(alice, tablet.signing_key(), 400);
    auto watch = DeviceKeys::generate();
    auto b = v3.with_revoked(alice, laptop.signing_key(), 500).with_device(alice, watch, 600);
    REQUIRE(a.version() == 4);
    REQUIRE(b.version() == 5);
    auto joined = a.merged_with(alice, b);
    CHECK_NOTHROW(joined.verify(alice.veil_id()));
    CHECK(joined.version() == 6);
    CHECK(joined.entries().size() == 4);
    CHECK(joined.is_active(phone.signing_key()));
    CHECK(joined.is_active(watch.signing_key()));
    CHECK(joined.find(tablet.signing_key())->revoked_ms == 400);
    CHECK(joined.find(laptop.signing_key())->revoked_ms == 500);
    // Joined either way round: the same bytes, so two devices joining at once do not fork again.
    CHECK(b.merged_with(alice, a).encode() == joined.encode());
    // Readers holding either side take it.
    CHECK_NOTHROW(DeviceList::accept_update(a, joined, alice.veil_id(), 1000));
    CHECK_NOTHROW(DeviceList::accept_update(b, joined, alice.veil_id(), 1000));
    // Only lists of the signer's identity join.
    auto mallory = Identity::generate();
    CHECK(kind_of([&] { (void)a.merged_with(mallory, b); }) == ErrorKind::untrusted_key);
    CHECK(kind_of([&] { (void)a.merged_with(alice, DeviceList{}.with_device(mallory, phone, 1)); }) == ErrorKind::untrusted_key);
    // A list naming alice's key whose signature does not verify (a forged watch added) is refused.
    auto forged = b.encode();
    forged.back() ^= 1;
    CHECK(kind_of([&] { (void)a.merged_with(alice, DeviceList::decode(forged)); }) == ErrorKind::bad_signature);
}
