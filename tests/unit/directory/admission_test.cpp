#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>

#include "admission.hpp"

using namespace veil::directory;
using veil::proto::NodeDescriptor;
using veil::proto::PublicKey;

namespace {

// Each descriptor newer than the last, as a node signs them; `timestamp_ms` to set one.
NodeDescriptor descriptor(const veil::crypto::SigningKeyPair& k, std::string host, std::uint16_t port,
                          std::uint64_t timestamp_ms = 0) {
    static std::uint64_t clock = 1000;
    return NodeDescriptor{k.pub, veil::crypto::ed25519_to_x25519(k.pub), std::move(host), port,
                          timestamp_ms != 0 ? timestamp_ms : ++clock};
}

// Admission with a probe the test answers by hand, and a record of what reached the registry.
struct Harness {
    explicit Harness(AdmissionConfig c) {
        admission = std::make_unique<Admission>(
            c, [this](const NodeDescriptor& d, std::function<void(bool)> done) { probes.emplace_back(d, std::move(done)); },
            [this](const NodeDescriptor& d) { listed.push_back(d.ed25519); },
            [this](const PublicKey& k) { dropped.push_back(k); }, [this] { return now; });
    }
    // A registration from the address it registers.
    AdmitDecision offer(const NodeDescriptor& d) { return admission->offer(d, source_key(d.host)); }
    // Answers the oldest pending probe.
    void answer(bool ok) {
        REQUIRE_FALSE(probes.empty());
        auto done = std::move(probes.front().second);
        probes.pop_front();
        done(ok);
    }
    std::uint64_t now = 1'000'000;
    std::deque<std::pair<NodeDescriptor, std::function<void(bool)>>> probes;
    std::vector<PublicKey> listed, dropped;
    std::unique_ptr<Admission> admission;
};

AdmissionConfig test_network() {
    AdmissionConfig c;
    c.test_network = true;
    c.max_nodes_per_block = 0;
    return c;
}

}  // namespace

TEST_CASE("admission - address kinds", "[node][admission]") {
    CHECK(classify_address("8.8.8.8") == AddressKind::global);
    CHECK(classify_address("2a00:1450::1") == AddressKind::global);
    CHECK(classify_address("127.0.0.1") == AddressKind::loopback);
    CHECK(classify_address("127.3.2.1") == AddressKind::loopback);
    CHECK(classify_address("::1") == AddressKind::loopback);
    CHECK(classify_address("::ffff:127.0.0.1") == AddressKind::loopback);
    CHECK(classify_address("10.1.2.3") == AddressKind::private_range);
    CHECK(classify_address("172.16.0.1") == AddressKind::private_range);
    CHECK(classify_address("172.31.255.1") == AddressKind::private_range);
    CHECK(classify_address("172.32.0.1") == AddressKind::global);
    CHECK(classify_address("192.168.1.1") == AddressKind::private_range);
    CHECK(classify_address("100.64.0.1") == AddressKind::private_range);
    CHECK(classify_address("fd00::1") == AddressKind::private_range);
    CHECK(classify_address("169.254.1.1") == AddressKind::link_local);
    CHECK(classify_address("fe80::1") == AddressKind::link_local);
    CHECK(classify_address("224.0.0.1") == AddressKind::multicast);
    CHECK(classify_address("ff02::1") == AddressKind::multicast);
    CHECK(classify_address("0.0.0.0") == AddressKind::unspecified);
    CHECK(classify_address("::") == AddressKind::unspecified);
    CHECK(classify_address("255.255.255.255") == AddressKind::reserved);
    CHECK(classify_address("192.0.2.7") == AddressKind::reserved);
    CHECK(classify_address("2001:db8::1") == AddressKind::reserved);
    // 6to4 and Teredo addresses are as global as the IPv4 address they carry.
    CHECK(classify_address("2002:7f00:1::1") == AddressKind::loopback);
    CHECK(classify_address("2002:a01:203::1") == AddressKind::private_range);
    CHECK(classify_address("2002:808:808::1") == AddressKind::global);
    CHECK(classify_address("2001:0:4136:e378:8000:63bf:f5ff:fffe") == AddressKind::private_range);  // 10.0.0.1
    CHECK(classify_address("2001:0:4136:e378:8000:63bf:80ff:fffe") == AddressKind::loopback);      // 127.0.0.1
    CHECK(classify_address("2001:0:4136:e378:8000:63bf:f7f7:f7f7") == AddressKind::global);        // 8.8.8.8
    CHECK(classify_address("localhost") == AddressKind::not_numeric);
    CHECK(classify_address("node.example.org") == AddressKind::not_numeric);
    CHECK(admissible(AddressKind::global, false));
    CHECK_FALSE(admissible(AddressKind::loopback, false));
    CHECK(admissible(AddressKind::loopback, true));
    CHECK_FALSE(admissible(AddressKind::not_numeric, true));
    CHECK(address_block("203.1.113.77") == "203.1.113.0/24");
    CHECK(address_block("2a00:1450:4001:81c::200e") == "2a00:1450:4001::/48");
    CHECK(address_owner("203.1.113.77") == "203.1.113.77/32");
    CHECK(address_owner("2a00:1450:4001:81c::200e") == "2a00:1450:4001:81c::/64");
    // IPv4-mapped IPv6 addresses are their IPv4 address, not all of ::/48.
    CHECK(address_block("::ffff:203.1.113.77") == "203.1.113.0/24");
    CHECK(address_owner("::ffff:203.1.113.77") == "203.1.113.77/32");
    CHECK(address_block("::ffff:198.18.0.1") != address_block("::ffff:203.1.113.77"));
    // 6to4 and Teredo addresses count in the block of the IPv4 address they carry: one IPv4
    // address holds 2^80 of them, not a /48 each.
    CHECK(address_block("2002:cb01:714d:1::1") == "203.1.113.0/24");
    CHECK(address_block("2002:cb01:714d:2::1") == "203.1.113.0/24");
    CHECK(address_owner("2002:cb01:714d:1::1") == "203.1.113.77/32");
    CHECK(address_block("2001:0:4136:e378:8000:63bf:3fff:fdd2") == "192.0.2.0/24");
    CHECK(address_owner("2001:0:4136:e378:8000:63bf:3fff:fdd2") == "192.0.2.45/32");
    CHECK(address_block("2001:db8::1") == "2001:db8::/48");  // not Teredo (2001:0::/32 only)
}

TEST_CASE("admission - a loopback address on a network that is not a test network is refused, never probed",
          "[node][admission]") {
    Harness h(AdmissionConfig{});
    auto k = veil::crypto::SigningKeyPair::generate();
    auto d = h.offer(descriptor(k, "127.0.0.1", 7000));
    CHECK(d.step == AdmitStep::refused);
    CHECK(d.reason.find("loopback") != std::string::npos);
    CHECK(h.offer(descriptor(k, "10.0.0.8", 7000)).step == AdmitStep::refused);
    CHECK(h.offer(descriptor(k, "node.example.org", 7000)).step == AdmitStep::refused);
    CHECK(h.probes.empty());
    CHECK(h.listed.empty());
}

TEST_CASE("admission - listed only after the challenge succeeds; a failed address waits", "[node][admission]") {
    auto cfg = test_network();
    cfg.retry_after_ms = 10'000;
    Harness h(cfg);
    auto k = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::checking);
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::checking);
    CHECK(h.probes.size() == 1);  // one probe at a time per node
    CHECK(h.listed.empty());
    h.answer(false);
    CHECK(h.listed.empty());
    // Not probed again before retry_after_ms: a fake costs the authority one connection a period.
    for (int i = 0; i < 5; ++i) {
        h.now += 1000;
        auto d = h.offer(descriptor(k, "127.0.0.1", 7000));
        CHECK(d.step == AdmitStep::refused);
        CHECK(d.reason.find("challenge") != std::string::npos);
    }
    CHECK(h.probes.empty());
    h.now += 10'000;
    h.admission->tick();
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::checking);
    h.answer(true);
    REQUIRE(h.listed.size() == 1);
    CHECK(h.listed[0] == k.pub);
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::listed);
}

TEST_CASE("admission - a node that stops answering the re-check is dropped; one that moves is checked again",
          "[node][admission]") {
    auto cfg = test_network();
    cfg.recheck_ms = 5000;
    cfg.forget_after_ms = 60'000;
    Harness h(cfg);
    auto k = veil::crypto::SigningKeyPair::generate();
    h.offer(descriptor(k, "127.0.0.1", 7000));
    h.answer(true);
    h.now += 4000;
    h.admission->tick();
    CHECK(h.probes.empty());  // not due yet
    h.now += 1000;
    h.admission->tick();
    REQUIRE(h.probes.size() == 1);
    h.answer(true);
    CHECK(h.dropped.empty());
    h.now += 5000;
    h.admission->tick();
    h.answer(false);
    REQUIRE(h.dropped.size() == 1);
    CHECK(h.admission->listed_count() == 0);

    auto m = veil::crypto::SigningKeyPair::generate();
    h.offer(descriptor(m, "127.0.0.1", 7100));
    h.answer(true);
    CHECK(h.offer(descriptor(m, "127.0.0.1", 7200)).step == AdmitStep::checking);
    CHECK(h.dropped.size() == 2);  // listed at the old address no more
    REQUIRE(h.probes.size() == 1);
    CHECK(h.probes.front().first.port == 7200);
}

TEST_CASE("admission - proven nodes per address block are limited, with a clear reason", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_nodes_per_block = 2;
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    std::vector<veil::crypto::SigningKeyPair> keys;
    for (int i = 0; i < 4; ++i) keys.push_back(veil::crypto::SigningKeyPair::generate());
    CHECK(h.offer(descriptor(keys[0], "127.0.1.1", 7000)).step == AdmitStep::checking);
    CHECK(h.offer(descriptor(keys[1], "127.0.1.2", 7000)).step == AdmitStep::checking);
    h.answer(true);
    h.answer(true);
    auto refused = h.offer(descriptor(keys[2], "127.0.1.3", 7000));
    CHECK(refused.step == AdmitStep::refused);
    CHECK(refused.reason.find("127.0.1.0/24") != std::string::npos);
    CHECK(refused.reason.find("max_nodes_per_block = 2") != std::string::npos);
    CHECK(h.offer(descriptor(keys[3], "127.0.2.1", 7000)).step == AdmitStep::checking);
    CHECK(h.probes.size() == 1);
}

TEST_CASE("admission - one address holds max_nodes_per_address proven nodes, also when they prove at once",
          "[node][admission]") {
    auto cfg = test_network();
    cfg.max_nodes_per_address = 2;
    Harness h(cfg);
    std::vector<veil::crypto::SigningKeyPair> keys;
    for (int i = 0; i < 5; ++i) keys.push_back(veil::crypto::SigningKeyPair::generate());
    // A hostile operator: three keys on one address, all answering their challenges.
    for (int i = 0; i < 3; ++i)
        CHECK(h.offer(descriptor(keys[i], "127.0.1.1", static_cast<std::uint16_t>(7000 + i))).step ==
              AdmitStep::checking);
    for (int i = 0; i < 3; ++i) h.answer(true);
    CHECK(h.listed.size() == 2);
    CHECK(h.admission->listed_count() == 2);
    auto refused = h.offer(descriptor(keys[2], "127.0.1.1", 7002));
    CHECK(refused.step == AdmitStep::refused);
    CHECK(refused.reason.find("127.0.1.1/32") != std::string::npos);
    CHECK(refused.reason.find("max_nodes_per_address = 2") != std::string::npos);
    // IPv6: the /64 is one machine's.
    CHECK(h.offer(descriptor(keys[3], "2a00:1450:4001:81c::1", 7000)).step == AdmitStep::checking);
    CHECK(h.offer(descriptor(keys[4], "2a00:1450:4001:81c::2", 7000)).step == AdmitStep::checking);
    h.answer(true);
    h.answer(true);
    CHECK(h.listed.size() == 4);
    auto third = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(third, "2a00:1450:4001:81c::3", 7000)).step == AdmitStep::refused);
}

TEST_CASE("admission - unproven registrations do not count toward the block limit", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_nodes_per_block = 2;
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    // Two squatters that never answer, then an honest node of the same block.
    auto s1 = veil::crypto::SigningKeyPair::generate(), s2 = veil::crypto::SigningKeyPair::generate();
    auto honest = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(s1, "127.0.1.1", 7000)).step == AdmitStep::checking);
    CHECK(h.offer(descriptor(s2, "127.0.1.2", 7000)).step == AdmitStep::checking);
    CHECK(h.offer(descriptor(honest, "127.0.1.3", 7000)).step == AdmitStep::checking);
    h.answer(false);
    h.answer(false);
    h.answer(true);
    REQUIRE(h.listed.size() == 1);
    CHECK(h.listed[0] == honest.pub);
}

TEST_CASE("admission - one block cannot take every probe slot", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_probes_in_flight = 8;
    cfg.max_checks_per_block = 4;
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    for (int i = 0; i < 20; ++i) {
        auto k = veil::crypto::SigningKeyPair::generate();
        CHECK(h.offer(descriptor(k, "127.0.1." + std::to_string(i + 1), 7000)).step == AdmitStep::checking);
    }
    CHECK(h.probes.size() == 4);  // the rest of the block waits
    auto honest = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(honest, "127.0.2.1", 7000)).step == AdmitStep::checking);
    REQUIRE(h.probes.size() == 5);
    CHECK(h.probes.back().first.ed25519 == honest.pub);
    // One address cannot queue more than max_checks_per_block registrations: of 10, the 3 left
    // slots take 3, 4 wait, 3 are refused.
    int taken = 0;
    AdmitDecision last;
    for (int i = 0; i < 10; ++i) {
        last = h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), "127.0.3.1", static_cast<std::uint16_t>(7000 + i)));
        taken += last.step == AdmitStep::checking;
    }
    CHECK(h.probes.size() == 8);
    CHECK(taken == 7);
    CHECK(last.reason.find("max_checks_per_block = 4") != std::string::npos);
}

TEST_CASE("admission - unanswering registrations in 16 blocks do not starve a 17th block", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_nodes_per_address = 0;  // 64 slots, 4 a block: 16 blocks of fakes fill them all
    Harness h(cfg);
    auto fake = [&h](int block, int host) {
        auto k = veil::crypto::SigningKeyPair::generate();
        auto addr = "127.0." + std::to_string(block) + "." + std::to_string(host);
        CHECK(h.offer(descriptor(k, addr, 7000)).step == AdmitStep::checking);
    };
    for (int block = 1; block <= 16; ++block)
        for (int host = 1; host <= 6; ++host) fake(block, host);  // 4 probed, 2 waiting, each block
    REQUIRE(h.probes.size() == 64);
    auto honest = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(honest, "127.0.99.1", 7000)).step == AdmitStep::checking);
    CHECK(h.probes.size() == 64);
    // The first fake times out: the slot goes to the block with no check under way, not to the
    // fakes that waited longer.
    h.answer(false);
    REQUIRE(h.probes.size() == 64);
    CHECK(h.probes.back().first.ed25519 == honest.pub);
}

TEST_CASE("admission - one address's unanswering registrations do not lock out its block", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_checks_per_block = 2;
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    // Two fake addresses of the victim's block, two registrations each, all probed or waiting.
    for (const char* addr : {"127.0.1.10", "127.0.1.11"})
        for (std::uint16_t port : {7000, 7001})
            REQUIRE(h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), addr, port)).step ==
                    AdmitStep::checking);
    REQUIRE(h.probes.size() == 2);  // both on 127.0.1.10
    auto honest = veil::crypto::SigningKeyPair::generate();
    REQUIRE(h.offer(descriptor(honest, "127.0.1.1", 7000)).step == AdmitStep::checking);
    // A fake fails: 127.0.1.11 was never probed either, but waited longer; it goes first...
    h.answer(false);
    CHECK(h.probes.back().first.host == "127.0.1.11");
    // ...and the next slot goes to the victim's address, not to a second fake of 127.0.1.11.
    h.answer(false);
    CHECK(h.probes.back().first.ed25519 == honest.pub);
}

TEST_CASE("admission - an older descriptor naming another address neither evicts nor moves the node",
          "[node][admission]") {
    Harness h(test_network());
    auto k = veil::crypto::SigningKeyPair::generate();
    auto old = descriptor(k, "127.0.0.1", 6000, 500);  // signed earlier by the node, captured by an attacker
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::checking);
    h.answer(true);
    auto replay = h.offer(old);
    CHECK(replay.step == AdmitStep::refused);
    CHECK(replay.reason.find("older") != std::string::npos);
    CHECK(h.dropped.empty());
    CHECK(h.probes.empty());
    CHECK(h.offer(descriptor(k, "127.0.0.1", 7000)).step == AdmitStep::listed);
}

TEST_CASE("admission - probes in flight are bounded", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_probes_in_flight = 3;
    cfg.max_checks_per_block = 0;
    cfg.max_waiting = 5;
    Harness h(cfg);
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
        auto k = veil::crypto::SigningKeyPair::generate();
        refused += h.offer(descriptor(k, "127.0.0.1", static_cast<std::uint16_t>(7000 + i))).step == AdmitStep::refused;
    }
    CHECK(h.probes.size() == 3);
    CHECK(refused == 2);  // 3 probed, 5 waiting
    h.answer(false);
    CHECK(h.probes.size() == 3);  // a waiting one took the slot
}

TEST_CASE("admission - a registration must come from the address it registers", "[node][admission]") {
    AdmissionConfig real;
    Harness h(real);
    auto k = veil::crypto::SigningKeyPair::generate();
    auto d = descriptor(k, "198.51.99.7", 7000);
    auto from_other = h.admission->offer(d, source_key("198.51.99.8"));
    CHECK(from_other.step == AdmitStep::refused);
    CHECK(from_other.reason.find("must come from the address it registers") != std::string::npos);
    CHECK(h.admission->offer(d, source_key("127.0.0.1")).step == AdmitStep::refused);  // only test networks forward
    CHECK(h.probes.empty());
    CHECK(h.admission->offer(d, source_key("198.51.99.7")).step == AdmitStep::checking);
    // IPv6: the /64 (what Reply::source() tells apart), IPv4-mapped as IPv4.
    CHECK(registered_from("2a00:1450:1:2::9", source_key("2a00:1450:1:2::77"), false));
    CHECK_FALSE(registered_from("2a00:1450:1:3::9", source_key("2a00:1450:1:2::9"), false));
    CHECK(registered_from("::ffff:198.51.99.7", source_key("198.51.99.7"), false));
    CHECK_FALSE(registered_from("node.example.org", source_key("node.example.org"), false));
    // A test network's nodes reach the authority through loopback forwarders.
    CHECK(registered_from("10.3.1.2", source_key("127.0.0.1"), true));
    CHECK_FALSE(registered_from("10.3.1.2", source_key("10.3.2.2"), true));
}

TEST_CASE("admission - 272 addresses x 4 fresh keys cannot lock honest nodes out of the queue", "[node][admission]") {
    auto cfg = test_network();  // defaults: 64 probes, 1024 waiting, 4 a block under check, 4 an address waiting
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    // 17 blocks x 16 addresses x 4 keys: 64 probes that never answer and every other place taken.
    std::size_t queued = 0;
    for (int block = 1; block <= 17; ++block)
        for (int host = 1; host <= 16; ++host)
            for (int key = 0; key < 4; ++key) {
                auto addr = "127.1." + std::to_string(block) + "." + std::to_string(host);
                auto d = descriptor(veil::crypto::SigningKeyPair::generate(), addr, static_cast<std::uint16_t>(7000 + key));
                queued += h.offer(d).step == AdmitStep::checking;
            }
    REQUIRE(h.probes.size() == 64);
    CHECK(queued == 64 + 1024);
    std::vector<PublicKey> honest;
    for (int i = 0; i < 10; ++i) {
        auto k = veil::crypto::SigningKeyPair::generate();
        honest.push_back(k.pub);
        CHECK(h.offer(descriptor(k, "127.2." + std::to_string(i) + ".1", 7000)).step == AdmitStep::checking);
    }
    // The attacker cannot take the places back: its blocks hold more than the honest ones.
    CHECK(h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), "127.1.1.1", 7100)).step == AdmitStep::refused);
    // The fakes' probes time out one by one; honest nodes answer theirs.
    std::size_t answered = 0;
    while (h.listed.size() < honest.size() && answered < 200) {
        REQUIRE_FALSE(h.probes.empty());
        bool is_honest = std::find(honest.begin(), honest.end(), h.probes.front().first.ed25519) != honest.end();
        h.answer(is_honest);
        ++answered;
    }
    CHECK(h.listed.size() == honest.size());
    CHECK(answered < 200);
}

TEST_CASE("admission - due re-checks leave probe slots to new registrations", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_probes_in_flight = 8;
    cfg.max_rechecks_in_flight = 4;
    cfg.max_checks_per_block = 0;
    cfg.max_nodes_per_address = 0;
    cfg.forget_after_ms = cfg.recheck_ms * 2;
    Harness h(cfg);
    for (int i = 0; i < 8; ++i) {
        h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), "127.0.0." + std::to_string(i + 1), 7000));
        h.answer(true);
    }
    REQUIRE(h.listed.size() == 8);
    h.now += cfg.recheck_ms;
    h.admission->tick();
    CHECK(h.probes.size() == 4);  // the re-checks hang (a listed node gone quiet)
    auto newcomer = veil::crypto::SigningKeyPair::generate();
    CHECK(h.offer(descriptor(newcomer, "127.0.9.1", 7000)).step == AdmitStep::checking);
    REQUIRE(h.probes.size() == 5);
    CHECK(h.probes.back().first.ed25519 == newcomer.pub);
}

TEST_CASE("admission - one block holds at most max_waiting_per_block places in the queue", "[node][admission]") {
    auto cfg = test_network();
    cfg.max_probes_in_flight = 4;
    cfg.max_waiting_per_block = 8;
    cfg.max_nodes_per_address = 0;
    Harness h(cfg);
    AdmitDecision last;
    int queued = 0;
    for (int host = 1; host <= 5; ++host)
        for (int key = 0; key < 4; ++key) {
            last = h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), "127.0.5." + std::to_string(host),
                                      static_cast<std::uint16_t>(7000 + key)));
            queued += last.step == AdmitStep::checking;
        }
    CHECK(queued == 4 + 8);  // 4 probed, 8 waiting
    CHECK(last.reason.find("max_waiting_per_block = 8") != std::string::npos);
    CHECK(h.offer(descriptor(veil::crypto::SigningKeyPair::generate(), "127.0.6.1", 7000)).step == AdmitStep::checking);
}
