// The QR code of a Veil ID as SVG (libqrencode).
#include <catch2/catch.hpp>

#include "qr_svg.hpp"

using veil::web::qr_svg;

TEST_CASE("web - a Veil ID becomes a version 5 QR code with its finder patterns", "[web]") {
    auto svg = qr_svg("05" + std::string(64, 'a'));
    // 66 bytes at level M need version 5: 37 modules plus a 4-module quiet zone on each side.
    CHECK(svg.find("viewBox=\"0 0 45 45\"") != std::string::npos);
    // The top-left finder pattern: its first row is 7 dark modules, its second row dark at
    // both ends and light inside.
    for (int x = 4; x < 11; ++x) CHECK(svg.find("M" + std::to_string(x) + " 4h1v1h-1z") != std::string::npos);
    CHECK(svg.find("M4 5h1v1h-1z") != std::string::npos);
    CHECK(svg.find("M5 5h1v1h-1z") == std::string::npos);
    CHECK(svg.find("M10 5h1v1h-1z") != std::string::npos);
    // Quiet zone stays light.
    CHECK(svg.find("M3 4h1v1h-1z") == std::string::npos);
}

TEST_CASE("web - different texts give different codes", "[web]") {
    CHECK(qr_svg("05" + std::string(64, 'a')) != qr_svg("05" + std::string(64, 'b')));
    CHECK_THROWS(qr_svg(std::string(4000, 'x')));
}
