#pragma once
/// The one-line progress bar `veil send --file` draws on a terminal while a file uploads.

#include <cstdint>
#include <string>

namespace veil::messenger {

/// "[##########..........]  50%  2.5 of 5.0 MB" (`width` cells between the brackets). A zero
/// total draws an empty bar at 0%; done beyond total is drawn as total.
[[nodiscard]] std::string progress_bar(std::uint64_t done_bytes, std::uint64_t total_bytes, int width = 30);

}  // namespace veil::messenger
