#include "qr.hpp"

#include <qrencode.h>

#include <memory>

namespace veil::messenger {

std::string qr_code(std::string_view text) {
    std::string input(text);
    std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                      &QRcode_free);
    if (!qr) return {};
    constexpr int kQuiet = 2;
    const int n = qr->width;
    auto dark = [&](int x, int y) {
        if (x < 0 || y < 0 || x >= n || y >= n) return false;
        return (qr->data[y * n + x] & 1) != 0;
    };
    std::string out;
    for (int y = -kQuiet; y < n + kQuiet; y += 2) {
        for (int x = -kQuiet; x < n + kQuiet; ++x) {
            bool top = dark(x, y), bottom = dark(x, y + 1);
            out += !top && !bottom ? "\u2588" : !top ? "\u2580" : !bottom ? "\u2584" : " ";
        }
        out += "\n";
    }
    return out;
}

}  // namespace veil::messenger
