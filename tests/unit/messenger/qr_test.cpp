#include <catch2/catch.hpp>

#include <sstream>

#include "qr.hpp"

using veil::messenger::qr_code;

namespace {
std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}
// Characters (not bytes): every block drawn is one 3-byte UTF-8 sequence, a space is one byte.
std::size_t width(const std::string& line) {
    std::size_t n = 0;
    for (unsigned char c : line) n += (c & 0xC0) != 0x80;
    return n;
}
}  // namespace

TEST_CASE("messenger - the ID's QR code is a square of half blocks with a quiet zone", "[messenger]") {
    const std::string id = "05" + std::string(64, 'a');
    auto code = qr_code(id);
    auto lines = lines_of(code);
    REQUIRE(!lines.empty());
    auto w = width(lines[0]);
    // A version-v symbol is 17 + 4v modules, plus 2 quiet modules each side; two rows a line.
    CHECK((w - 4 - 17) % 4 == 0);
    CHECK(lines.size() == (w + 1) / 2);
    for (const auto& l : lines) CHECK(width(l) == w);
    CHECK(lines[0].find(' ') == std::string::npos);  // the quiet zone is all light
    CHECK(qr_code(id) == code);
    CHECK(qr_code("05" + std::string(64, 'b')) != code);
}
