#pragma once
/// Answers one framed service request that arrived on a listener (the direct transport's, a
/// service node's): decodes `str(service) | var(body)`, asks the bus for transport::Inbound
/// routed by that service name, and replies with the encoded transport::Response. Loop thread.

#include <cstddef>
#include <cstdint>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/export.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::sdk::transport {

/// Serves `frame_body` through the bus; unknown services get Status::unknown_service, a service
/// that fails or takes longer than timeout_ms gets Status::error with a short message. A frame
/// that is not a service request fails the reply (the frame's error status).
VEIL_SDK_API void answer_inbound(Bus& bus, const wire::Bytes& frame_body, net::Reply reply,
                                 std::uint32_t timeout_ms, std::size_t max_body_bytes);

/// The same for a request the listener already decoded (decode_service_request) to look at its
/// service first, e.g. to rate-limit some services and not others.
VEIL_SDK_API void answer_inbound(Bus& bus, Inbound request, net::Reply reply, std::uint32_t timeout_ms);

}  // namespace veil::sdk::transport
