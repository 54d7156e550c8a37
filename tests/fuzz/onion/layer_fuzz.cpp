// Feeds arbitrary bytes to the layer and response decoders a hop and a client run on
// untrusted input. Any outcome but a result or LayerError is a bug.
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
    try {
        (void)open_response(keys.pk, in);
    } catch (const LayerError&) {
    }
    return 0;
}
