#pragma once
// The RPC methods: each checks its params, asks the messenger contract on the bus, and turns
// the reply into JSON. One method maps to one bus request (receive and subscribe excepted).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jsonrpc.hpp"
#include "veil/sdk/bus.hpp"

namespace veil::rpc {

/// What a method may change on the connection it was called on.
class Session {
public:
    virtual ~Session() = default;
    /// Turns the event stream of this connection on or off.
    virtual void set_subscribed(bool on) = 0;
};

/// A method's outcome: the "result" value or an error object.
using Outcome = std::variant<json, RpcError>;
/// Called exactly once on the loop thread (possibly before call() returns).
using Done = std::function<void(Outcome)>;

/// Limits of the method layer.
struct MethodOptions {
    std::uint32_t request_timeout_ms = 60000;  ///< deadline of each bus request
};

/// The method names served, sorted (for docs, tests and "method not found" hints).
const std::vector<std::string_view>& method_names();

/// Runs one call against `bus` (loop thread). Unknown methods, bad params and bus errors all
/// end in `done` with an RpcError; nothing throws.
void run_method(sdk::Bus& bus, const MethodOptions& options, const Call& call, Session& session, Done done);

/// The error object for a bus error: code -32000 minus the ErrorCode value, the bus message,
/// and data {"kind": "timeout" | "not_found" | ...}.
RpcError application_error(const sdk::Error& e);

}  // namespace veil::rpc
