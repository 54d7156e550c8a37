#pragma once
/// A QR code of a short text for a terminal (libqrencode, Unicode half blocks).

#include <string>
#include <string_view>

namespace veil::messenger {

/// The QR code of `text` as lines of Unicode half blocks (two modules a character, light
/// modules drawn, so it reads on a dark terminal), with a quiet zone; "" if it cannot be made.
[[nodiscard]] std::string qr_code(std::string_view text);

}  // namespace veil::messenger
