#include "veil/sdk/result.hpp"

namespace veil::sdk {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::timeout: return "timeout";
        case ErrorCode::unreachable: return "unreachable";
        case ErrorCode::closed: return "closed";
        case ErrorCode::no_handler: return "no_handler";
        case ErrorCode::queue_full: return "queue_full";
        case ErrorCode::handler_failed: return "handler_failed";
        case ErrorCode::abandoned: return "abandoned";
        case ErrorCode::too_large: return "too_large";
        case ErrorCode::bad_input: return "bad_input";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::io: return "io";
        case ErrorCode::refused: return "refused";
        case ErrorCode::internal: return "internal";
    }
    return "invalid";
}

std::string Error::describe() const {
    std::string out(to_string(code));
    if (!message.empty()) out += ": " + message;
    return out;
}

}  // namespace veil::sdk
