#pragma once
/// Error values that cross the plugin seam instead of exceptions.
/// Every asynchronous SDK call reports failure as an Error inside a Result; nothing throws on
/// a thread the caller does not own. Both types are plain values, safe to copy between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// What went wrong, coarse enough for callers to branch on. Zero is never a valid code.
enum class ErrorCode : std::uint8_t {
    timeout = 1,      ///< no answer within the caller's deadline
    unreachable,      ///< could not connect to the peer
    closed,           ///< the connection or bus closed before an answer
    no_handler,       ///< nobody serves this request topic / service
    queue_full,       ///< the bounded bus queue or a connection's backlog is full
    handler_failed,   ///< the serving handler threw or reported failure
    abandoned,        ///< the server dropped the request without replying
    too_large,        ///< a frame or value exceeds its configured limit
    bad_input,        ///< malformed bytes or arguments
    not_found,        ///< a looked-up item does not exist
    io,               ///< an operating-system or storage error
    refused,          ///< the peer or service refused the request (rate limit, policy)
    internal,         ///< a bug: an invariant did not hold
};

/// Stable lower-case name of a code ("timeout", "unreachable", ...), for logs and JSON.
VEIL_SDK_API std::string_view to_string(ErrorCode code) noexcept;

/// An error code with a short human-readable message (no secrets, no peer addresses).
struct Error {
    ErrorCode code = ErrorCode::internal;  ///< what kind of failure
    std::string message;                   ///< one line for a person

    /// "code: message".
    [[nodiscard]] VEIL_SDK_API std::string describe() const;
};

/// Marker for a Result that carries no value.
struct Unit {};

/// Either a value of type T or an Error. Cheap to move; check ok() before value().
template <class T>
class Result final {
public:
    /// A successful result.
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    /// A failed result.
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
    /// A failed result from a code and message.
    Result(ErrorCode code, std::string message) : v_(std::in_place_index<1>, Error{code, std::move(message)}) {}

    /// True when a value is present.
    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    /// The value; precondition ok().
    [[nodiscard]] T& value() & { return std::get<0>(v_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    /// The error; precondition !ok().
    [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

/// A Result with no value: success or an Error.
using Status = Result<Unit>;

/// The successful Status.
inline Status ok_status() { return Status(Unit{}); }

}  // namespace veil::sdk
