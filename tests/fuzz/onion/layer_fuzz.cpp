// Feeds arbitrary bytes to the layer and answer decoders a hop and a client run on untrusted
// input. Any outcome but a result or LayerError is a bug; an answer that opens must name a node
// of the path, and a failure only a relay with a valid code.
#include <sodium.h>

#include "layer.hpp"

using namespace veil::onion;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const struct Keys {
        Key32 pk{};
        std::shared_ptr<const veil::crypto::KeyAgreement> node_key;
        Keys() {
            if (sodium_init() < 0) __builtin_trap();
            // A fixed key so that seeds made with it (see corpus/) open and reach the parser.
            std::array<std::uint8_t, 32> seed{}, sk{};
            crypto_box_seed_keypair(pk.data(), sk.data(), seed.data());
            node_key = veil::crypto::make_key_agreement(
                veil::crypto::DhKeyPair::from_secret(veil::crypto::SecretBytes::copy_of(ByteView(sk.data(), sk.size()))));
            sodium_memzero(sk.data(), sk.size());
        }
    } keys;
    ByteView in(data, size);
    try {
        (void)open_layer(in, *keys.node_key);
    } catch (const LayerError&) {
    }
    // A client's keys for a path of two relays (guard, exit) and a destination; the response
    // key of each is the fixed public key with its index in the first byte, so seeds can be
    // sealed under them (see corpus/).
    static const ReturnKeys path = [] {
        ReturnKeys k;
        for (std::uint8_t i = 0; i < 3; ++i) {
            Key32 reply = keys.pk;
            reply[0] = i;
            k.reply.push_back(reply);
            if (i < 2) {
                Key32 peel = keys.pk;
                peel[1] = i;
                k.peel.push_back(peel);
            }
        }
        return k;
    }();
    try {
        auto answer = open_answer(path, in);
        if (answer.from >= path.reply.size()) __builtin_trap();
        if (answer.failure.has_value() != (answer.from + 1 < path.reply.size())) __builtin_trap();
        if (answer.failure && !veil::sdk::onion::is_valid(*answer.failure)) __builtin_trap();
    } catch (const LayerError&) {
    }
    return 0;
}
