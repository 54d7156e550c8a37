#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <set>
#include <string>

#include "layer.hpp"

using namespace veil::onion;

namespace {

struct TestNode {
    Hop hop;
    std::shared_ptr<const veil::crypto::KeyAgreement> key = veil::crypto::make_key_agreement(veil::crypto::DhKeyPair::generate());

    explicit TestNode(std::string address) {
        REQUIRE(sodium_init() >= 0);
        hop.address = std::move(address);
        hop.onion_key = key->public_key();
        randombytes_buf(hop.node_id.data(), 32);
    }
    OpenedLayer open(const Bytes& blob) const { return open_layer(blob, *key); }
};

bool contains(const Bytes& haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("onion - a request through three relays reaches the destination and its answer returns", "[onion]") {
    TestNode guard("127.0.0.1:1001"), middle("127.0.0.1:1002"), exit_node("127.0.0.1:1003"),
        dest("127.0.0.1:1004");
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("retrieve mailbox 05ab"), 1000);

    auto at_guard = guard.open(sealed.blob);
    REQUIRE(at_guard.kind == LayerKind::forward);
    CHECK(at_guard.next_address == middle.hop.address);
    CHECK(at_guard.next_node_id == middle.hop.node_id);

    auto at_middle = middle.open(at_guard.inner);
    REQUIRE(at_middle.kind == LayerKind::forward);
    CHECK(at_middle.next_address == exit_node.hop.address);

    auto at_exit = exit_node.open(at_middle.inner);
    REQUIRE(at_exit.kind == LayerKind::forward);
    CHECK(at_exit.next_address == dest.hop.address);

    auto at_dest = dest.open(at_exit.inner);
    REQUIRE(at_dest.kind == LayerKind::deliver);
    // Every hop sees a packet of the same size: nobody learns its position from the size.
    CHECK(at_guard.inner.size() == sealed.blob.size());
    CHECK(at_middle.inner.size() == sealed.blob.size());
    CHECK(at_exit.inner.size() == sealed.blob.size());
    CHECK(at_dest.service == "storage");
    CHECK(at_dest.body == bytes_of("retrieve mailbox 05ab"));
    CHECK(at_dest.response_key == sealed.keys.reply.back());

    // On the way back each relay re-encrypts the answer: the same size, other bytes on each link.
    auto response = seal_response(at_dest.response_key, bytes_of("3 messages"));
    CHECK(response.size() == bucket_size(response.size()));
    auto from_dest = response;
    for (const auto* at : {&at_exit, &at_middle, &at_guard}) {
        auto before = response;
        add_return_layer(at->return_key, response);
        CHECK(response.size() == before.size());
        CHECK(response != before);
    }
    CHECK(response != from_dest);
    CHECK(open_response(sealed.keys, response) == bytes_of("3 messages"));
    auto answer = open_answer(sealed.keys, response);
    CHECK(answer.from == 3);
    CHECK_FALSE(answer.failure.has_value());
    // Without the guard's layer the client cannot read it.
    CHECK_THROWS_AS(open_response(sealed.keys, from_dest), LayerError);
}

TEST_CASE("onion - each hop sees its own time", "[onion]") {
    TestNode guard("127.0.0.1:2101"), middle("127.0.0.1:2102"), exit_node("127.0.0.1:2103"),
        dest("127.0.0.1:2104");
    const std::uint64_t now = 1'700'000'000'000;
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("x"), now);
    auto at_guard = guard.open(sealed.blob);
    auto at_middle = middle.open(at_guard.inner);
    auto at_exit = exit_node.open(at_middle.inner);
    auto at_dest = dest.open(at_exit.inner);
    std::set<std::uint64_t> times;
    for (const auto* at : {&at_guard, &at_middle, &at_exit, &at_dest}) {
        CHECK(at->created_ms <= now);
        CHECK(at->created_ms > now - kTimeJitterMs);
        times.insert(at->created_ms);
    }
    // Four independent draws from 30,000 values: equal ones are rare (p < 1e-3), not the rule.
    CHECK(times.size() >= 3);
}

TEST_CASE("onion - a relay's failure is typed and only that relay can seal it", "[onion]") {
    TestNode guard("127.0.0.1:2201"), middle("127.0.0.1:2202"), exit_node("127.0.0.1:2203"),
        dest("127.0.0.1:2204");
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("x"), 1'700'000'000'000);
    auto at_guard = guard.open(sealed.blob);
    auto at_middle = middle.open(at_guard.inner);
    auto at_exit = exit_node.open(at_middle.inner);
    // The exit could not reach the destination; the middle and the guard pass it back.
    auto failure = seal_failure(at_exit.response_key, HopFailure::next_hop_timeout);
    add_return_layer(at_middle.return_key, failure);
    add_return_layer(at_guard.return_key, failure);
    auto answer = open_answer(sealed.keys, failure);
    CHECK(answer.from == 2);
    REQUIRE(answer.failure.has_value());
    CHECK(*answer.failure == HopFailure::next_hop_timeout);
    CHECK_THROWS_AS(open_response(sealed.keys, failure), LayerError);
    // The guard forging the exit's failure under any key but the exit's proves nothing.
    Key32 forged_key{};
    randombytes_buf(forged_key.data(), forged_key.size());
    CHECK_THROWS_AS(open_answer(sealed.keys, seal_failure(forged_key, HopFailure::next_hop_unreachable)), LayerError);
    // The guard's own failure verifies, and names the guard as the one who saw it.
    auto own = open_answer(sealed.keys, seal_failure(at_guard.response_key, HopFailure::next_hop_unreachable));
    CHECK(own.from == 0);
    // A failure sealed by the destination is not a relay's, and a reply sealed by a relay is not an answer.
    auto by_dest = seal_failure(dest.open(at_exit.inner).response_key, HopFailure::next_hop_refused);
    for (const auto* at : {&at_exit, &at_middle, &at_guard}) add_return_layer(at->return_key, by_dest);
    CHECK_THROWS_AS(open_answer(sealed.keys, by_dest), LayerError);
    CHECK_THROWS_AS(open_answer(sealed.keys, seal_response(at_guard.response_key, bytes_of("ok"))), LayerError);
}

TEST_CASE("onion - a packet of the previous format (version 2) is refused", "[onion]") {
    TestNode guard("127.0.0.1:2301"), dest("127.0.0.1:2302");
    std::vector<Hop> relays{guard.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("x"), 1'700'000'000'000);
    CHECK(sealed.blob[0] == 3);
    sealed.blob[0] = 2;
    CHECK_THROWS_AS(guard.open(sealed.blob), LayerError);
}

TEST_CASE("onion - a hop learns only its neighbours", "[onion]") {
    TestNode guard("127.0.0.1:2001"), middle("127.0.0.1:2002"), exit_node("127.0.0.1:2003"),
        dest("127.0.0.1:2004");
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("mailbox-secret"), 1000);

    auto at_guard = guard.open(sealed.blob);
    // What the guard holds after opening its layer names the middle and nothing further.
    CHECK_FALSE(contains(at_guard.inner, exit_node.hop.address));
    CHECK_FALSE(contains(at_guard.inner, dest.hop.address));
    CHECK_FALSE(contains(at_guard.inner, "mailbox-secret"));
    CHECK_FALSE(contains(at_guard.inner, "storage"));
    // Nobody but the addressed hop can open a layer.
    CHECK_THROWS_AS(middle.open(sealed.blob), LayerError);
    CHECK_THROWS_AS(dest.open(sealed.blob), LayerError);
    auto at_middle = middle.open(at_guard.inner);
    CHECK_FALSE(contains(at_middle.inner, dest.hop.address));
}

TEST_CASE("onion - a tampered byte, a wrong version or a truncated layer are refused alike", "[onion]") {
    TestNode guard("127.0.0.1:3001"), dest("127.0.0.1:3002");
    std::vector<Hop> relays{guard.hop};
    auto sealed = seal_request(relays, dest.hop, "info", {}, 5);

    for (std::size_t pos : {std::size_t{0}, std::size_t{5}, std::size_t{40}, std::size_t{70}}) {
        Bytes bad = sealed.blob;
        bad[pos] ^= 0x01;
        INFO("flipped byte " << pos);
        CHECK_THROWS_AS(guard.open(bad), LayerError);
    }
    Bytes truncated(sealed.blob.begin(), sealed.blob.begin() + 60);
    CHECK_THROWS_AS(guard.open(truncated), LayerError);
    CHECK_THROWS_AS(guard.open(Bytes{}), LayerError);

    // A relay cannot check the payload; a byte changed on the way is caught at the destination.
    Bytes tampered_payload = sealed.blob;
    tampered_payload.back() ^= 0xff;
    auto forwarded = guard.open(tampered_payload);
    CHECK(forwarded.next_address == dest.hop.address);
    CHECK_THROWS_AS(dest.open(forwarded.inner), LayerError);
    CHECK(dest.open(guard.open(sealed.blob).inner).service == "info");

    std::string message;
    try {
        guard.open(truncated);
    } catch (const LayerError& e) {
        message = e.what();
    }
    CHECK(message == "onion: bad layer");
}

TEST_CASE("onion - a low-order ephemeral key is refused", "[onion]") {
    TestNode node("127.0.0.1:4001");
    Bytes blob = veil::wire::Writer{}.u8(kLayerVersion).raw(Bytes(32, 0)).take();
    blob.resize(1024, 0);
    CHECK_THROWS_AS(node.open(blob), LayerError);
}

TEST_CASE("onion - a path has at most kMaxPathNodes nodes, and the header bounds it", "[onion]") {
    std::vector<TestNode> nodes;
    for (int i = 0; i < 6; ++i) nodes.emplace_back("127.0.0.1:60" + std::to_string(i));
    std::vector<Hop> four{nodes[0].hop, nodes[1].hop, nodes[2].hop, nodes[3].hop};
    auto sealed = seal_request(four, nodes[4].hop, "storage", bytes_of("x"), 1);
    Bytes packet = sealed.blob;
    for (int i = 0; i < 4; ++i) {
        auto opened = nodes[static_cast<std::size_t>(i)].open(packet);
        REQUIRE(opened.kind == LayerKind::forward);
        packet = opened.inner;
    }
    auto at_dest = nodes[4].open(packet);
    CHECK(at_dest.kind == LayerKind::deliver);
    CHECK(at_dest.body == bytes_of("x"));

    for (std::size_t relays_n = 0; relays_n <= 4; ++relays_n) {
        INFO(relays_n << " relays");
        std::vector<Hop> path;
        for (std::size_t i = 0; i < relays_n; ++i) path.push_back(nodes[i].hop);
        Bytes p = seal_request(path, nodes[5].hop, "s", bytes_of("y"), 1).blob;
        for (std::size_t i = 0; i < relays_n; ++i) {
            auto opened = nodes[i].open(p);
            REQUIRE(opened.kind == LayerKind::forward);
            CHECK(opened.next_address == (i + 1 < relays_n ? nodes[i + 1] : nodes[5]).hop.address);
            p = opened.inner;
        }
        CHECK(nodes[5].open(p).body == bytes_of("y"));
    }

    std::vector<Hop> five{nodes[0].hop, nodes[1].hop, nodes[2].hop, nodes[3].hop, nodes[4].hop};
    CHECK_THROWS_AS(seal_request(five, nodes[5].hop, "storage", bytes_of("x"), 1), std::length_error);
    Hop far = nodes[1].hop;
    far.address = std::string(kMaxAddressBytes + 1, '1');
    std::vector<Hop> one{nodes[0].hop};
    CHECK_THROWS_AS(seal_request(one, far, "storage", bytes_of("x"), 1), std::length_error);
}

TEST_CASE("onion - requests and responses are padded to size buckets", "[onion]") {
    TestNode guard("127.0.0.1:5001"), middle("127.0.0.1:5002"), exit_node("127.0.0.1:5003"),
        dest("127.0.0.1:5004");
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto small = seal_request(relays, dest.hop, "storage", Bytes(10, 1), 1);
    auto larger = seal_request(relays, dest.hop, "storage", Bytes(200, 1), 1);
    CHECK(small.blob.size() == larger.blob.size());
    CHECK(small.blob.size() == bucket_size(small.blob.size()));
    auto big = seal_request(relays, dest.hop, "storage", Bytes(70000, 1), 1);
    CHECK(big.blob.size() == 1u << 17);

    const Key32& dest_key = small.keys.reply.back();
    CHECK(seal_response(dest_key, Bytes(1, 0)).size() == seal_response(dest_key, Bytes(900, 0)).size());
    CHECK(seal_failure(dest_key, HopFailure::next_hop_refused).size() == 1024);
    auto tampered = seal_response(dest_key, Bytes(5, 7));
    tampered[30] ^= 1;
    CHECK_THROWS_AS(open_response(small.keys, tampered), LayerError);
    CHECK_THROWS_AS(open_response(larger.keys, seal_response(dest_key, Bytes(5, 7))), LayerError);

    CHECK(bucket_size(0) == 1024);
    CHECK(bucket_size(1025) == 2048);
    CHECK(bucket_size(1u << 20) == 1u << 20);
    CHECK_THROWS_AS(bucket_size(kMaxBlobBytes + 1), std::length_error);
    CHECK_THROWS_AS(seal_request(relays, dest.hop, "storage", Bytes(kMaxBlobBytes, 0), 1), std::length_error);
}

TEST_CASE("onion - a packet or an answer off the size buckets is refused, so no hop can tag it by length", "[onion]") {
    TestNode guard("127.0.0.1:6001"), middle("127.0.0.1:6002"), exit_node("127.0.0.1:6003"),
        dest("127.0.0.1:6004");
    std::vector<Hop> relays{guard.hop, middle.hop, exit_node.hop};
    auto sealed = seal_request(relays, dest.hop, "storage", bytes_of("x"), 1);
    CHECK(is_bucket_size(sealed.blob.size()));
    CHECK_FALSE(is_bucket_size(1025));
    CHECK_FALSE(is_bucket_size(512));

    // A guard that appends k bytes for a colluding hop further on: the middle refuses the packet.
    auto at_guard = guard.open(sealed.blob);
    Bytes tagged = at_guard.inner;
    tagged.resize(tagged.size() + 7, 0);
    CHECK_THROWS_AS(middle.open(tagged), LayerError);
    CHECK_THROWS_AS(guard.open([&] { Bytes b = sealed.blob; b.push_back(0); return b; }()), LayerError);

    // A destination that seals 1024 + k bytes under its own key (a valid AEAD, so only the
    // size gives it away): the client refuses it as well as the relays.
    const std::size_t k = 16;
    Bytes plain = veil::wire::Writer{}.u8(1).var(bytes_of("reply")).take();
    Bytes answer(1024 + k);
    const std::size_t nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    plain.resize(answer.size() - nonce - crypto_aead_xchacha20poly1305_ietf_ABYTES, 0);
    randombytes_buf(answer.data(), nonce);
    crypto_aead_xchacha20poly1305_ietf_encrypt(answer.data() + nonce, nullptr, plain.data(), plain.size(), nullptr, 0,
                                               nullptr, answer.data(), sealed.keys.reply.back().data());
    for (const auto& return_key : sealed.keys.peel) add_return_layer(return_key, answer);
    CHECK_THROWS_AS(open_answer(sealed.keys, answer), LayerError);
}
