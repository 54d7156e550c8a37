#include <catch2/catch.hpp>

#include "registry.hpp"

using namespace veil::directory;

namespace {
NodeDescriptor descriptor(const veil::crypto::SigningKeyPair& k, std::uint16_t port, std::uint64_t ts) {
    return NodeDescriptor{k.pub, veil::crypto::ed25519_to_x25519(k.pub), "127.0.0.1", port, ts};
}
}  // namespace

TEST_CASE("registry - registrations, replays, clock window and address clashes", "[node][registry]") {
    Registry r({});
    auto a = veil::crypto::SigningKeyPair::generate();
    auto b = veil::crypto::SigningKeyPair::generate();
    const std::uint64_t now = 1'000'000'000;
    CHECK(r.heartbeat(descriptor(a, 5000, now), now) == RegisterResult::ok);
    CHECK(r.heartbeat(descriptor(a, 5000, now), now) == RegisterResult::replayed);
    CHECK(r.heartbeat(descriptor(a, 5000, now + 1), now) == RegisterResult::ok);
    CHECK(r.heartbeat(descriptor(b, 5000, now), now) == RegisterResult::address_taken);
    CHECK(r.heartbeat(descriptor(b, 5001, now - 10 * 60 * 1000), now) == RegisterResult::clock_out_of_window);
    CHECK(r.node_count() == 1);
}

TEST_CASE("registry - the view lists the live nodes; silent nodes drop", "[node][registry]") {
    RegistryConfig cfg;
    cfg.heartbeat_timeout_ms = 1000;
    Registry r(cfg);
    r.tick(1);
    CHECK(r.view().empty());
    std::vector<veil::crypto::SigningKeyPair> keys;
    for (int i = 0; i < 4; ++i) keys.push_back(veil::crypto::SigningKeyPair::generate());
    std::uint64_t now = 5'000'000;
    for (std::size_t i = 0; i < keys.size(); ++i)
        REQUIRE(r.heartbeat(descriptor(keys[i], static_cast<std::uint16_t>(6000 + i), now), now) == RegisterResult::ok);
    r.tick(now);
    auto v1 = r.view();
    CHECK(v1.size() == 4);
    CHECK(std::is_sorted(v1.begin(), v1.end()));
    // Three keep beating; one goes silent.
    for (std::size_t i = 0; i < 3; ++i)
        REQUIRE(r.heartbeat(descriptor(keys[i], static_cast<std::uint16_t>(6000 + i), now + 900), now + 900) ==
                RegisterResult::ok);
    r.tick(now + 1500);
    auto v2 = r.view();
    CHECK(v2.size() == 3);
    for (const auto& n : v2) CHECK(n.ed25519 != keys[3].pub);
}
