// Relay cost: opening one onion layer per second, as a ratio to the raw libsodium work it is
// built on (one X25519 + one XChaCha20-Poly1305 open of the same payload), measured in the
// same run. Usage: veil_bench_onion [payload_bytes] [seconds_per_measure]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "layer.hpp"

using namespace veil::onion;
using Clock = std::chrono::steady_clock;

namespace {

// Runs fn repeatedly for about `seconds` and returns calls per second.
double rate(double seconds, const std::function<void()>& fn) {
    std::size_t n = 0;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
        for (int i = 0; i < 16; ++i) fn();
        n += 16;
    }
    return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    std::size_t payload = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1024;
    double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 2.0;

    Hop node{{}, {}, "127.0.0.1:1"}, dest{{}, {}, "127.0.0.1:2"};
    std::array<std::uint8_t, 32> node_sk{}, dest_sk{};
    crypto_box_keypair(node.onion_key.data(), node_sk.data());
    crypto_box_keypair(dest.onion_key.data(), dest_sk.data());
    std::vector<Hop> relays{node};
    auto sealed = seal_request(relays, dest, "storage", Bytes(payload, 0x42), 0);

    // Raw limit: the same X25519 and AEAD open on a ciphertext of the same size.
    std::array<std::uint8_t, 32> eph_pk{}, eph_sk{}, shared{}, key{};
    crypto_box_keypair(eph_pk.data(), eph_sk.data());
    std::array<std::uint8_t, 24> nonce{};
    // Raw limit on a ciphertext as large as the whole packet a hop handles.
    std::size_t ct_size = sealed.blob.size();
    Bytes pt(ct_size - 16), ct(ct_size);
    unsigned long long ct_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, pt.data(), pt.size(), nullptr, 0,
                                               nullptr, nonce.data(), key.data());
    double raw = rate(seconds, [&] {
        if (crypto_scalarmult(shared.data(), node_sk.data(), eph_pk.data()) != 0) std::abort();
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), nullptr, nullptr, ct.data(), ct_len,
                                                       nullptr, 0, nonce.data(), key.data()) != 0)
            std::abort();
    });
    auto node_key = veil::crypto::make_key_agreement(
        veil::crypto::DhKeyPair::from_secret(veil::crypto::SecretBytes::copy_of(ByteView(node_sk.data(), node_sk.size()))));
    double hops = rate(seconds, [&] { (void)open_layer(sealed.blob, *node_key); });
    double seals = rate(seconds, [&] { (void)seal_request(relays, dest, "storage", Bytes(payload, 1), 0); });

    std::printf("payload %zu bytes, packet %zu bytes\n", payload, sealed.blob.size());
    std::printf("raw X25519 + XChaCha20-Poly1305 open : %10.0f /s\n", raw);
    std::printf("relay hop (open, re-encrypt payload) : %10.0f /s  ratio %.2f (goal >= 0.5)\n", hops, hops / raw);
    std::printf("client seal (1 relay + destination)  : %10.0f /s  ratio %.2f\n", seals, seals / raw);
    return 0;
}
