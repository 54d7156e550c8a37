// Fuzzes the group decoders (docs/groups.md): group state, sender-key distribution, sender-key
// message and stored sender chain. Whatever decodes encodes back to the same bytes; a state
// never verifies unless its admin signed it, and never replaces the fixture's state unless
// signed by the fixture's admin; a message opens in the fixture's chain only if its owner made
// it, and a refused message leaves the chain as it was.
#include <cstdlib>

#include "veil/crypto/group.hpp"

namespace {

using namespace veil::crypto;

// The owner's chain, deterministic (seeds in corpus/group are messages of it): signing seed
// 32 x 0x22, chain key 32 x 0x33, group id 32 x 0x11, epoch 1, iteration 0.
SenderChain owner_chain() {
    veil::wire::Writer w;
    const Bytes seed(32, 0x22);
    w.u8(1).raw(Bytes(32, 0x11)).u64(1).raw(SigningKeyPair::from_seed(seed).pub).u8(1).raw(seed);
    w.raw(Bytes(32, 0x33)).u32(0).u32(0);
    return SenderChain::deserialize(w.bytes());
}

struct Fixture {
    Identity admin = Identity::from_seed(SecretBytes(32));
    GroupState state = GroupState::create(admin, "fuzz", {}, 1);
    SenderChain reader = SenderChain::from_distribution(owner_chain().distribution());
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

template <class F>
void expect_malformed_or_ok(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::malformed) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView in(data, size);
    auto& f = fixture();
    expect_malformed_or_ok([&] {
        auto s = GroupState::decode(in);
        if (!s.encode().equals(in)) std::abort();
        try {
            s.verify_self();
        } catch (const Error&) {
        }
        try {
            auto accepted = GroupState::accept_update(f.state, std::move(s));
            if (accepted.signer() != f.admin.veil_id()) std::abort();  // only our admin signs
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::malformed) std::abort();
        }
    });
    expect_malformed_or_ok([&] {
        auto d = SenderKeyDistribution::decode(in);
        if (!d.encode().equals(in)) std::abort();
        try {
            (void)SenderChain::from_distribution(d).distribution();
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::too_large || d.iteration != UINT32_MAX) std::abort();  // the last iteration
        }
    });
    expect_malformed_or_ok([&] {
        auto m = SenderKeyMessage::decode(in);
        if (m.encode() != Bytes(in.begin(), in.end())) std::abort();
        const auto iteration = f.reader.iteration();
        const auto kept = f.reader.skipped_key_count();
        try {
            (void)f.reader.decrypt(m);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::malformed) std::abort();
            if (f.reader.iteration() != iteration || f.reader.skipped_key_count() != kept) std::abort();
        }
        // A fresh reader each time keeps runs reproducible once a message did open.
        f.reader = SenderChain::from_distribution(owner_chain().distribution());
    });
    expect_malformed_or_ok([&] {
        auto c = SenderChain::deserialize(in);
        if (!c.serialize().equals(in)) std::abort();
    });
    return 0;
}
