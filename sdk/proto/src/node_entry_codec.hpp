#pragma once
// The wire form of one manifest node entry, shared by the manifest body and its diffs:
// ed25519(32) ‖ x25519(32) ‖ str(host) ‖ u16 port ‖ u64 swarm.

#include "veil/proto/manifest.hpp"
#include "veil/wire/codec.hpp"

namespace veil::proto::detail {

/// The fewest bytes an entry takes (an empty host): bounds counts the input cannot hold.
inline constexpr std::size_t kMinNodeEntryBytes = 32 + 32 + 4 + 2 + 8;

inline void put_node_entry(wire::Writer& w, const NodeEntry& n) {
    w.raw(n.ed25519).raw(n.x25519).str(n.host).u16(n.port).u64(n.swarm);
}

inline NodeEntry get_node_entry(wire::Reader& r) {
    NodeEntry n;
    n.ed25519 = wire::to_array<32>(r.raw(32));
    n.x25519 = wire::to_array<32>(r.raw(32));
    n.host = r.str(kMaxHostBytes);
    n.port = r.u16();
    n.swarm = r.u64();
    return n;
}

}  // namespace veil::proto::detail
