// Newline framing with a bounded line length (see line_reader.hpp).
#include "line_reader.hpp"

namespace veil::rpc {

void LineReader::feed(std::string_view bytes) {
    if (pos_ > 0 && pos_ * 2 >= buf_.size()) {  // compact once half the buffer is consumed
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(bytes);
}

std::optional<Line> LineReader::next() {
    for (;;) {
        const std::size_t nl = buf_.find('\n', pos_);
        if (skipping_) {
            if (nl == std::string::npos) {  // still inside the over-long line: drop what we have
                buf_.clear();
                pos_ = 0;
                return std::nullopt;
            }
            pos_ = nl + 1;
            skipping_ = false;
            continue;
        }
        const std::size_t end = nl == std::string::npos ? buf_.size() : nl;
        if (end - pos_ > max_) {  // too long, complete or not: report once, skip to its newline
            skipping_ = nl == std::string::npos;
            pos_ = nl == std::string::npos ? buf_.size() : nl + 1;
            if (skipping_) {
                buf_.clear();
                pos_ = 0;
            }
            return Line{{}, true};
        }
        if (nl == std::string::npos) return std::nullopt;
        std::string_view text(buf_.data() + pos_, nl - pos_);
        pos_ = nl + 1;
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line
        return Line{std::string(text), false};
    }
}

}  // namespace veil::rpc
