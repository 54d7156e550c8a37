// Fuzzes the ratchet header, ratchet message and cipher message decoders (each re-encodes to the
// bytes it came from), and decryption by a live session, which must reject forged input without
// changing its state.
#include <cstdlib>

#include "veil/crypto/session_manager.hpp"

namespace {
struct Fixture {
    veil::crypto::RatchetSession bob;
    veil::crypto::SecretBytes state;
};

Fixture& fixture() {
    using namespace veil::crypto;
    static Fixture f = [] {
        auto sk = SecretBytes(32);
        auto spk = DhKeyPair::from_secret(SecretBytes::copy_of(Bytes(32, 7)));
        auto alice = RatchetSession::initiate(sk, Bytes(64, 1), spk.pub);
        auto bob = RatchetSession::respond(sk, Bytes(64, 1), std::move(spk));
        bob.decrypt(alice.encrypt(Bytes{1, 2, 3}), 0);
        auto state = bob.serialize();
        return Fixture{std::move(bob), std::move(state)};
    }();
    return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil::crypto;
    ByteView in(data, size);
    auto expect_malformed = [](const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    };
    try {
        auto h = RatchetHeader::decode(in);
        if (h.encode() != Bytes(in.begin(), in.end())) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        auto h = X3dhHeader::decode(in);
        if (h.encode() != Bytes(in.begin(), in.end())) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        auto c = CipherMessage::decode(in);
        if (c.encode() != Bytes(in.begin(), in.end())) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    try {
        auto m = RatchetMessage::decode(in);
        if (m.encode() != Bytes(in.begin(), in.end())) std::abort();
        auto& f = fixture();
        try {
            f.bob.decrypt(m, 0);
            std::abort();  // forging a message must not work
        } catch (const Error&) {
        }
        if (!f.bob.serialize().equals(f.state.view())) std::abort();
    } catch (const Error& e) {
        expect_malformed(e);
    }
    return 0;
}
