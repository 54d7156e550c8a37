#pragma once
// Splits a byte stream into newline-terminated lines (the RPC framing), with a bounded line
// length. Untrusted input: a line longer than the limit is reported once and skipped up to its
// newline, so memory stays bounded and the connection can go on.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace veil::rpc {

/// One framing result: a complete line, or the notice that one was too long (and dropped).
struct Line {
    std::string text;        ///< without the '\n' (and without a trailing '\r')
    bool too_long = false;   ///< text is empty; the line exceeded max_line_bytes
};

/// Incremental newline framing. Single-threaded value.
class LineReader final {
public:
    explicit LineReader(std::size_t max_line_bytes) : max_(max_line_bytes) {}
    /// Appends bytes read from the stream.
    void feed(std::string_view bytes);
    /// The next complete line (or too-long notice), if any. Empty lines are skipped.
    std::optional<Line> next();
    /// Bytes held that are not yet handed out (bounded by max_line_bytes + what was fed last).
    [[nodiscard]] std::size_t buffered() const { return buf_.size() - pos_; }

private:
    std::size_t max_;
    std::string buf_;
    std::size_t pos_ = 0;       // start of the unread part of buf_
    bool skipping_ = false;     // dropping the rest of a too-long line
};

}  // namespace veil::rpc
