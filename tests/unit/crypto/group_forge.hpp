#pragma once
// A hostile client's view of the group state: the fields of docs/groups.md's format, and a state
// signed by anyone over any fields (what a non-admin or a stranger can make). Shared by the
// crypto and messenger group tests.

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "veil/crypto/group.hpp"

namespace veil::crypto::test {

// The fields of a group state, as docs/groups.md writes them: what a hostile client can put in
// any state it signs itself.
struct Draft {
    GroupId group_id{};
    PublicKey creator{};
    std::array<std::uint8_t, 16> nonce{};
    Digest previous{};  // draft_of: the digest of the state drafted from (a draft is its successor)
    std::uint64_t version = 0;
    std::uint64_t epoch = 0;
    std::string name;
    std::uint64_t issued_ms = 0;
    std::vector<std::pair<VeilId, std::uint8_t>> members;
    std::array<std::uint8_t, 32> seed{};
};

inline Draft draft_of(const GroupState& s) {
    auto bytes = s.encode();
    veil::wire::Reader r(bytes.view());
    Draft d;
    r.u8();
    d.group_id = veil::wire::to_array<32>(r.raw(32));
    d.creator = veil::wire::to_array<32>(r.raw(32));
    d.nonce = veil::wire::to_array<16>(r.raw(16));
    r.raw(32);  // its own predecessor
    d.previous = s.digest();
    d.version = r.u64();
    d.epoch = r.u64();
    d.name = r.str(128);
    d.issued_ms = r.u64();
    const auto n = r.u16();
    for (std::uint16_t i = 0; i < n; ++i) {
        VeilId id{veil::wire::to_array<32>(r.raw(32))};
        d.members.emplace_back(id, r.u8());
    }
    r.raw(32 + 32 + 64);  // mailbox key, signer key, signature
    if (r.u8() == 1) d.seed = veil::wire::to_array<32>(r.raw(32));
    return d;
}

// A state signed by `signer` from the draft, encoded exactly as the format says.
inline GroupState forge(const Draft& d, const Identity& signer) {
    veil::wire::Writer body;
    body.raw(d.group_id).raw(d.creator).raw(d.nonce).raw(d.previous).u64(d.version).u64(d.epoch).str(d.name).u64(d.issued_ms);
    body.u16(static_cast<std::uint16_t>(d.members.size()));
    for (const auto& [id, role] : d.members) body.raw(id.x25519).u8(role);
    body.raw(SigningKeyPair::from_seed(d.seed).pub);  // the signed mailbox key
    veil::wire::Writer signed_part;
    signed_part.str("Veil_GroupState_v3").raw(body.bytes());
    const auto sig = signer.sign(signed_part.bytes());
    veil::wire::Writer out;
    out.u8(3).raw(body.bytes()).raw(signer.signing_key()).raw(sig).u8(1).raw(d.seed);
    return GroupState::decode(out.bytes());
}

inline void set_role(Draft& d, const VeilId& id, std::uint8_t role) {
    for (auto& m : d.members) {
        if (m.first == id) m.second = role;
    }
}

inline void drop(Draft& d, const VeilId& id) {
    d.members.erase(std::remove_if(d.members.begin(), d.members.end(), [&](const auto& m) { return m.first == id; }),
                    d.members.end());
}

}  // namespace veil::crypto::test
