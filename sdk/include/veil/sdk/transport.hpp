#pragma once
/// The contract every transport implements (onion, the default; direct, for tests), so a caller never
/// knows which one carries its request.
///
/// Outbound: a plugin sends transport::Request on the bus; the one enabled transport serves it
/// (it "provides" the capability `transport`) and answers with a transport::Response, or an
/// Error: unreachable, timeout, too_large, closed.
/// Inbound: a transport (or a service node's listener) receiving a request for service S asks
/// the bus with transport::Inbound routed by S (Bus::request(..., route = S)); the plugin that
/// offers S serves Inbound with that route (Context::serve<Inbound>(handler, "S")). No server
/// for S gives Response{Status::unknown_service}.
/// Wire format of a service request body carried in a net frame: encode_service_request().

#include <cstdint>
#include <string>
#include <string_view>

#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sdk::transport {

using Bytes = wire::Bytes;

/// Largest service name, in bytes.
inline constexpr std::size_t kMaxServiceName = 64;
/// Default deadline of a transport request.
inline constexpr std::uint32_t kDefaultTimeoutMs = 10'000;

/// Where a request goes: the node's Ed25519 public key and its address.
struct Destination {
    std::string node_key_hex;  ///< 64 hex chars (onion needs it; direct logs nothing of it)
    std::string address;       ///< "host:port" (numeric)
};

/// Outcome of a request the destination did receive. Zero is never valid.
enum class Status : std::uint8_t {
    ok = 1,               ///< the service answered; body is its reply
    error = 2,            ///< the service failed; body is a UTF-8 message
    unknown_service = 3,  ///< nothing serves that name at the destination
};

/// The destination's answer.
struct Response {
    Status status = Status::ok;
    Bytes body;
};

/// Command: carry `body` to `service` at `to`. Served by the enabled transport.
struct Request {
    static constexpr std::string_view topic = "veil.transport.request";
    using Reply = Response;
    Destination to;
    std::string service;                       ///< e.g. "storage", "echo"
    Bytes body;                                ///< opaque to the transport
    std::uint32_t timeout_ms = kDefaultTimeoutMs;
    /// The request and its answer are public and name nothing of the caller (a manifest fetch).
    /// When its destination is the client's own guard, the onion may then deliver it to the
    /// guard over one hop (as Tor fetches directory documents from its guard) instead of
    /// showing the client's address to another entry node.
    bool public_content = false;
};

/// A request that arrived for a local service; served with route = service name.
struct Inbound {
    static constexpr std::string_view topic = "veil.transport.inbound";
    using Reply = Response;
    std::string service;
    Bytes body;
    /// The connection of the node's port the request came by (net::Reply::connection_id), also
    /// for requests an onion relay delivers from a blob that came by it; 0 when unknown. Lets a
    /// service rate-limit per connection without seeing an address.
    std::uint64_t link = 0;
    /// An opaque key of the connection's source (net::Reply::source: IPv4 address or IPv6 /64);
    /// empty when unknown. For per-source budgets only: derived from an address, never logged.
    std::string source;
};

/// Service request body inside a net frame: str(service) | var(body).
VEIL_SDK_API Bytes encode_service_request(std::string_view service, const Bytes& body);
/// Parses it; bad_input on malformed bytes or a name longer than kMaxServiceName.
VEIL_SDK_API Result<Inbound> decode_service_request(wire::ByteView bytes, std::size_t max_body);

/// Result of peek_service on the first bytes of a service request.
struct ServicePeek {
    enum class State { need_more, bad, named } state = State::need_more;
    std::string_view service;  ///< when named: a view into the peeked bytes
    std::size_t header_bytes = 0;  ///< when named: bytes before the body (name and both length prefixes)
};
/// The service a request names, from its first bytes only (the body need not have arrived):
/// lets a server size its limit for the frame before buffering it. `bad` for an empty name or
/// one longer than kMaxServiceName.
VEIL_SDK_API ServicePeek peek_service(wire::ByteView head);

/// Service response body inside a net frame: u8 status | var(body).
VEIL_SDK_API Bytes encode_service_response(const Response& response);
/// Parses it; bad_input on malformed bytes or an unknown status.
VEIL_SDK_API Result<Response> decode_service_response(wire::ByteView bytes, std::size_t max_body);

}  // namespace veil::sdk::transport
