#pragma once
// One framed line in, at most one answer line out: parses, runs every call (a batch in
// parallel), and gathers the answers (a batch answers with one array, in request order;
// notifications get no answer, so a line of notifications only gets none).
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "methods.hpp"

namespace veil::rpc {

/// Limits of the dispatcher.
struct DispatchOptions {
    MethodOptions methods;
    std::size_t max_batch = 100;  ///< requests in one batch array
};

/// Called exactly once on the loop thread: with the answer line ('\n' included), or with ""
/// when the line held only notifications (so the caller knows the line is finished).
using AnswerFn = std::function<void(std::string)>;

/// Handles one line (loop thread). `answer` may run before this returns (errors found while
/// parsing, subscribe) or later (bus replies). `session` must stay valid until this returns.
void handle_line(sdk::Bus& bus, const DispatchOptions& options, std::string_view line, Session& session,
                 AnswerFn answer);

/// The answer to a line longer than the framing limit (the line itself is dropped).
std::string too_long_answer(std::size_t max_line_bytes);

}  // namespace veil::rpc
