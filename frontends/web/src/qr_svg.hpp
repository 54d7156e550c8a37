#pragma once
// A QR code of a short text as a standalone SVG image (libqrencode), for "your ID" in the page.
#include <string>
#include <string_view>

namespace veil::web {

/// An SVG of `text` as a QR code (error correction M, 4-module quiet zone). Throws
/// std::runtime_error when libqrencode cannot encode it (e.g. too long).
std::string qr_svg(std::string_view text);

}  // namespace veil::web
