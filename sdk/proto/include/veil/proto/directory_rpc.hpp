#pragma once
/// The directory authority's two requests (the bytes inside one net.hpp frame):
///   request  = u8 version (1) | u8 kind | payload
///     kind 1 register:     var(signed descriptor envelope)   (also the heartbeat)
///     kind 2 get_manifest: nothing, or u64 version held (authority to authority: answered
///                          7 current, no manifest, unless the served one is newer)
///     kind 3 post_vote:      var(relayed vote)                (authority to authority, vote.hpp)
///     kind 4 post_signature: consensus signature (104 bytes)  (authority to authority, vote.hpp)
///     kind 5 offer_vote:     digest_of(vote envelope) (32)    (authority to authority: a relayed
///                            vote by digest; answered ok when held, 6 wanted: post_vote it)
///   response = u8 status | payload
///     status 1 ok:         get_manifest: var(signed manifest envelope); the others: nothing
///     any other status:    str(message)   (5 checking: the admission challenge is under way)
/// Decoders throw wire::DecodeError.

#include <string>
#include <variant>

#include "veil/wire/codec.hpp"

namespace veil::proto {

/// Directory request kinds; values are on the wire.
enum class DirectoryKind : std::uint8_t { register_node = 1, get_manifest = 2, post_vote = 3, post_signature = 4, offer_vote = 5 };
/// Directory response status; values are on the wire.
enum class DirectoryStatus : std::uint8_t {
    ok = 1,
    refused = 2,      ///< a registration the rules refuse (see the message)
    bad_request = 3,  ///< malformed bytes or a descriptor that does not verify
    not_ready = 4,    ///< no manifest yet
    checking = 5,     ///< a registration being checked (admission challenge): not listed yet
    wanted = 6,       ///< offer_vote: not held, send the whole vote (post_vote)
    current = 7,      ///< get_manifest with a version: the served one is not newer
};

struct DirectoryRequest {
    DirectoryKind kind = DirectoryKind::get_manifest;
    wire::Bytes descriptor;  ///< register only
    wire::Bytes body;        ///< post_vote: the relayed vote; post_signature: the encoded signature; offer_vote: the digest
    std::uint64_t held_version = 0;  ///< get_manifest: the version the asker holds (0: none, send it)
};

struct DirectoryResponse {
    DirectoryStatus status = DirectoryStatus::ok;
    wire::Bytes manifest;  ///< get_manifest ok only
    std::string message;   ///< errors only
};

[[nodiscard]] wire::Bytes encode_directory_request(const DirectoryRequest& r);
[[nodiscard]] DirectoryRequest decode_directory_request(wire::ByteView b);
/// The caller says which kind it asked.
[[nodiscard]] wire::Bytes encode_directory_response(DirectoryKind kind, const DirectoryResponse& r);
[[nodiscard]] DirectoryResponse decode_directory_response(DirectoryKind kind, wire::ByteView b);

}  // namespace veil::proto
