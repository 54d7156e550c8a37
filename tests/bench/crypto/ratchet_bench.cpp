// Ratchet throughput for a 1 KiB message, as a ratio to the raw libsodium operations it is built
// on, measured in the same run (these machines are noisy): XChaCha20-Poly1305 seal + open,
// HMAC-SHA256 for the chain step, and X25519 for the DH ratchet step; and a session set-up
// (bundle verification, X3DH on both sides, the first message) as a count of raw X25519s and
// Ed25519 verifications. Also prints the bytes of overhead per message.
// Usage: veil_crypto_bench [seconds per measurement, default 1]
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "veil/crypto/crypto.hpp"

using namespace veil::crypto;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_per_run = 1.0;

// Operations per second of op over one short round.
double round_rate(const std::function<void()>& op) {
    std::size_t n = 0;
    auto start = Clock::now();
    double elapsed = 0;
    do {
        for (int i = 0; i < 32; ++i) op();
        n += 32;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds_per_run / 7);
    return static_cast<double>(n) / elapsed;
}

// Measures every op in turn, several rounds interleaved, so a burst of load from other
// processes hits all of them alike. Returns each round's rates.
std::vector<std::vector<double>> rounds_of(const std::vector<std::function<void()>>& ops, int rounds) {
    std::vector<std::vector<double>> out;
    for (int r = 0; r < rounds; ++r) {
        std::vector<double> rates;
        for (const auto& op : ops) rates.push_back(round_rate(op));
        out.push_back(std::move(rates));
    }
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) seconds_per_run = std::atof(argv[1]);
    if (sodium_init() < 0) return 1;
    const Bytes plain(1024, 0x5a);
    const Bytes ad(64 + 41, 0xad);
    std::uint8_t key[32], nonce[24], mk[32], ck[32] = {1};
    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    Bytes ct(plain.size() + 16), out(plain.size());
    unsigned long long len = 0;
    std::uint8_t sk_a[32], sk_b[32], pk_b[32], shared[32];
    randombytes_buf(sk_a, 32);
    randombytes_buf(sk_b, 32);
    crypto_scalarmult_base(pk_b, sk_b);

    // Raw limits: what one message costs at least.
    auto raw_aead = [&] {
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, plain.data(), plain.size(), ad.data(), ad.size(),
                                                   nullptr, nonce, key);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ct.data(), ct.size(), ad.data(),
                                                       ad.size(), nonce, key) != 0) std::abort();
    };
    auto raw_hmac2 = [&] {
        const std::uint8_t one = 1, two = 2;
        crypto_auth_hmacsha256(mk, &one, 1, ck);
        crypto_auth_hmacsha256(ck, &two, 1, ck);
    };
    auto raw_x25519 = [&] {
        if (crypto_scalarmult(shared, sk_a, pk_b) != 0) std::abort();
    };
    auto raw_x25519_base = [&] { crypto_scalarmult_base(shared, sk_a); };
    std::uint8_t ed_pk[32], ed_sk[64], ed_sig[64];
    crypto_sign_keypair(ed_pk, ed_sk);
    crypto_sign_detached(ed_sig, nullptr, plain.data(), 200, ed_sk);
    auto raw_ed_verify = [&] {
        if (crypto_sign_verify_detached(ed_sig, plain.data(), 200, ed_pk) != 0) std::abort();
    };

    auto sk = SecretBytes::random(32);
    auto spk = DhKeyPair::generate();
    auto alice = RatchetSession::initiate(sk, Bytes(64, 1), spk.pub);
    auto bob = RatchetSession::respond(sk, Bytes(64, 1), std::move(spk));
    // Same chain: Alice sends, Bob receives (no DH step).
    auto same_chain = [&] {
        if (bob.decrypt(alice.encrypt(plain), 0).size() != plain.size()) std::abort();
    };
    // Ping-pong: every message carries a new ratchet key; its receipt costs 2 X25519 + 1 keygen.
    bool turn = false;
    auto ping_pong = [&] {
        RatchetSession& from = turn ? bob : alice;
        RatchetSession& to = turn ? alice : bob;
        turn = !turn;
        if (to.decrypt(from.encrypt(plain), 0).size() != plain.size()) std::abort();
    };
    // Per-message raw cost, composed from the parts measured in the same round (times add up):
    // seal + open, one KDF_CK step on each side (2 x 2 HMAC), and for a DH step 2 X25519 + 1
    // key generation. Each round gives a ratio; the median over rounds is printed.
    // Session set-up: Alice verifies Bob's bundle (certificate, signed and one-time pre-key) and
    // runs X3DH; Bob verifies her certificate, runs X3DH and opens the first message.
    auto alice_identity = Identity::generate(), bob_identity = Identity::generate();
    auto alice_device = DeviceKeys::generate(), bob_device = DeviceKeys::generate();
    PreKeyStore alice_store, bob_store;
    auto alice_cert = DeviceCertificate::issue(alice_identity, alice_device, 1);
    auto bob_cert = DeviceCertificate::issue(bob_identity, bob_device, 1);
    bob_store.rotate_signed_prekey(bob_device, bob_identity.signing_key(), 1, 1ULL << 62);
    (void)bob_store.generate_one_time_prekeys(bob_device, bob_identity.signing_key(), 1);
    const auto bob_bundle = bob_store.bundle(bob_cert, 1);
    SessionManager alice_sessions(alice_device, alice_identity.signing_key(), alice_store),
        bob_sessions(bob_device, bob_identity.signing_key(), bob_store);
    auto session_setup = [&] {
        alice_sessions.start_session(bob_identity.veil_id(), bob_bundle, 2);
        auto first = alice_sessions.encrypt(bob_identity.veil_id(), bob_device.signing_key(), plain);
        if (bob_sessions.decrypt(alice_identity.veil_id(), alice_cert, first, 2).size() != plain.size()) std::abort();
    };

    auto rounds = rounds_of({raw_aead, raw_hmac2, raw_x25519, raw_x25519_base, same_chain, ping_pong, raw_ed_verify,
                             session_setup}, 7);
    std::vector<double> col[8], chain_ratio, dh_ratio, setup_in_x25519;
    for (const auto& r : rounds) {
        for (int i = 0; i < 8; ++i) col[i].push_back(r[i]);
        setup_in_x25519.push_back(r[2] / r[7]);
        const double raw_chain = 1.0 / (1.0 / r[0] + 2.0 / r[1]);
        const double raw_dh = 1.0 / (1.0 / r[0] + 2.0 / r[1] + 2.0 / r[2] + 1.0 / r[3]);
        chain_ratio.push_back(r[4] / raw_chain);
        dh_ratio.push_back(r[5] / raw_dh);
    }
    const double aead = median(col[0]), hmac2 = median(col[1]), x25519 = median(col[2]),
                 x25519_base = median(col[3]), chain = median(col[4]), pingpong = median(col[5]),
                 ed_verify = median(col[6]), setup = median(col[7]);

    auto m = alice.encrypt(plain);
    std::size_t ratchet_overhead = m.encode().size() - plain.size();
    CipherMessage cm{std::nullopt, alice.encrypt(plain)};
    std::size_t cipher_overhead = cm.encode().size() - plain.size();
    std::size_t prekey_overhead = cipher_overhead + 4 + X3dhHeader{}.encode().size();

    std::printf("raw XChaCha20-Poly1305 seal+open 1 KiB : %10.0f /s\n", aead);
    std::printf("raw 2x HMAC-SHA256 (KDF_CK)            : %10.0f /s\n", hmac2);
    std::printf("raw X25519                             : %10.0f /s\n", x25519);
    std::printf("raw X25519 base point (key generation) : %10.0f /s\n", x25519_base);
    std::printf("ratchet 1 KiB encrypt+decrypt, same chain : %9.0f msg/s  ratio %.2f of raw (seal+open + 4 HMAC)\n",
                chain, median(chain_ratio));
    std::printf("ratchet 1 KiB encrypt+decrypt, ping-pong  : %9.0f msg/s  ratio %.2f of raw (seal+open + 4 HMAC + 2 X25519 + keygen)\n",
                pingpong, median(dh_ratio));
    std::printf("raw Ed25519 verify                     : %10.0f /s\n", ed_verify);
    std::printf("session set-up (bundle check, X3DH both sides, first 1 KiB message): %9.0f /s  = %.1f raw X25519\n",
                setup, median(setup_in_x25519));
    std::printf("overhead per message: ratchet message %zu B (41 header + 4 length + 16 tag), "
                "cipher message %zu B, first (pre-key) message %zu B\n",
                ratchet_overhead, cipher_overhead, prekey_overhead);
    std::printf("sealed envelope: +%zu B outer header, content padded to buckets of 512 B .. 1 MiB\n",
                static_cast<std::size_t>(1 + 32 + 2 + 8 + 4));
    return 0;
}
