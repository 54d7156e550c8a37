#pragma once
/// Admission proof: a directory authority connects to the address a node registers and sends a
/// challenge (node_rpc.hpp Method::challenge: its own key and a fresh random nonce); the node
/// answers on that connection with its Ed25519 signature over challenge_message(). The address is
/// the node's own (what it registers), so a node reached through someone else's address cannot
/// vouch for it, and the tag keeps this signature apart from every other the node key makes.
/// docs/admission.md.

#include <string_view>

#include "veil/proto/types.hpp"
#include "veil/wire/codec.hpp"

namespace veil::proto {

/// Domain tag at the start of every challenge signature.
inline constexpr std::string_view kChallengeDomain = "veil-admission-challenge-v1";

/// tag | authority key | nonce | str(host) | u16 port: what the node signs.
[[nodiscard]] wire::Bytes challenge_message(const PublicKey& authority, const Hash& nonce, std::string_view host,
                                            std::uint16_t port);

}  // namespace veil::proto
