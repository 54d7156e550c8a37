#include "progress_bar.hpp"

#include <algorithm>
#include <cstdio>

namespace veil::messenger {

std::string progress_bar(std::uint64_t done_bytes, std::uint64_t total_bytes, int width) {
    done_bytes = std::min(done_bytes, total_bytes);
    const double fraction = total_bytes ? static_cast<double>(done_bytes) / static_cast<double>(total_bytes) : 0.0;
    const int filled = static_cast<int>(fraction * width);
    std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                      std::string(static_cast<std::size_t>(width - filled), '.') + "]";
    char tail[64];
    std::snprintf(tail, sizeof tail, " %3d%%  %.1f of %.1f MB", static_cast<int>(fraction * 100),
                  static_cast<double>(done_bytes) / 1e6, static_cast<double>(total_bytes) / 1e6);
    return bar + tail;
}

}  // namespace veil::messenger
