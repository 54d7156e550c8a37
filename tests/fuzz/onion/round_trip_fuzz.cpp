// The onion format as a property: a request sealed through 0-3 relays to a destination, with a
// service, body and addresses taken from the input, is opened hop by hop; each relay learns only
// its next hop, every hop sees its own time, the destination gets the service and body exactly,
// the answer re-encrypted by each relay on its way back opens to the same bytes (and differs on
// every link), a relay's typed failure opens as that relay's, and one flipped bit anywhere in the
// packet or the answer is refused.
#include <sodium.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layer.hpp"

using namespace veil::onion;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

struct Node {
    Hop hop;
    std::shared_ptr<const veil::crypto::KeyAgreement> key;
};

// Four fixed nodes (a path uses at most three relays and the destination).
const std::array<Node, 4>& nodes() {
    static const auto made = [] {
        if (sodium_init() < 0) __builtin_trap();
        std::array<Node, 4> out;
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::array<std::uint8_t, 32> seed{}, sk{};
            seed[0] = static_cast<std::uint8_t>(i + 1);
            crypto_box_seed_keypair(out[i].hop.onion_key.data(), sk.data(), seed.data());
            out[i].hop.node_id.fill(static_cast<std::uint8_t>(0x10 + i));
            out[i].key = veil::crypto::make_key_agreement(veil::crypto::DhKeyPair::from_secret(
                veil::crypto::SecretBytes::copy_of(ByteView(sk.data(), sk.size()))));
            sodium_memzero(sk.data(), sk.size());
        }
        return out;
    }();
    return made;
}

// Reads the test's parameters from the front of the input.
struct Input {
    ByteView rest;
    std::uint8_t byte() {
        if (rest.empty()) return 0;
        auto b = rest[0];
        rest = rest.subspan(1);
        return b;
    }
    ByteView take(std::size_t n) {
        n = std::min(n, rest.size());
        auto out = rest.first(n);
        rest = rest.subspan(n);
        return out;
    }
};

// Opens the packet hop by hop along `all`; nullopt when some hop refuses it. `opened` gets
// every layer but the destination's.
std::optional<OpenedLayer> walk(const std::array<Node, 4>& all, Bytes blob, std::size_t relays,
                                std::vector<OpenedLayer>* opened = nullptr) {
    for (std::size_t i = 0;; ++i) {
        OpenedLayer layer;
        try {
            layer = open_layer(blob, *all[i].key);
        } catch (const LayerError&) {
            return std::nullopt;
        }
        if (i == relays) {
            check(layer.kind == LayerKind::deliver);
            return layer;
        }
        check(layer.kind == LayerKind::forward);
        check(layer.next_node_id == all[i + 1].hop.node_id && layer.next_address == all[i + 1].hop.address);
        check(layer.inner.size() == blob.size());  // the same size at every hop
        blob = layer.inner;
        if (opened) opened->push_back(std::move(layer));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in{ByteView(data, size)};
    const std::size_t relays = in.byte() % 4;
    std::array<Node, 4> path = nodes();
    for (std::size_t i = 0; i <= relays; ++i) {
        auto port = static_cast<unsigned>(in.byte()) << 8 | in.byte();
        path[i].hop.address = "127.0.0." + std::to_string(1 + i) + ":" + std::to_string(port);
    }
    auto service_bytes = in.take(in.byte() % (kMaxServiceBytes + 1));
    const std::string service(service_bytes.begin(), service_bytes.end());
    const std::size_t flip_at = static_cast<std::size_t>(in.byte()) << 8 | in.byte();
    const std::uint8_t flip_bit = in.byte() % 8;
    auto body = in.take(4096);

    std::vector<Hop> relay_hops;
    for (std::size_t i = 0; i < relays; ++i) relay_hops.push_back(path[i].hop);
    auto sealed = seal_request(relay_hops, path[relays].hop, service, body, 1'700'000'000'000);

    std::vector<OpenedLayer> layers;
    auto delivered = walk(path, sealed.blob, relays, &layers);
    check(delivered.has_value());
    check(delivered->service == service && delivered->body == Bytes(body.begin(), body.end()));
    for (const auto& layer : layers) {
        check(layer.created_ms <= 1'700'000'000'000 && layer.created_ms > 1'700'000'000'000 - kTimeJitterMs);
    }

    // The answer, re-encrypted by each relay from the exit back to the guard.
    auto reply = seal_response(delivered->response_key, body);
    for (std::size_t i = relays; i-- > 0;) {
        auto before = reply;
        add_return_layer(layers[i].return_key, reply);
        check(reply.size() == before.size() && reply != before);
    }
    check(open_response(sealed.keys, reply) == Bytes(body.begin(), body.end()));
    auto bad_reply = reply;
    bad_reply[flip_at % bad_reply.size()] ^= static_cast<std::uint8_t>(1u << flip_bit);
    try {
        (void)open_response(sealed.keys, bad_reply);
        __builtin_trap();
    } catch (const LayerError&) {
    }

    // A failure seen by one relay (chosen by the input) opens as that relay's, with its code.
    if (relays > 0) {
        const std::size_t at = flip_bit % relays;
        const auto code = static_cast<HopFailure>(1 + flip_at % 3);
        auto failure = seal_failure(layers[at].response_key, code);
        for (std::size_t i = at; i-- > 0;) add_return_layer(layers[i].return_key, failure);
        auto answer = open_answer(sealed.keys, failure);
        check(answer.from == at && answer.failure == code);
    }

    auto tampered = sealed.blob;
    tampered[flip_at % tampered.size()] ^= static_cast<std::uint8_t>(1u << flip_bit);
    check(!walk(path, tampered, relays).has_value());
    return 0;
}
