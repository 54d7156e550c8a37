#include "exif_orientation.hpp"

#include <cstring>

#include "byte_order.hpp"

namespace veil::exif_strip {
namespace {
constexpr std::uint16_t orientation_tag = 0x0112;
constexpr std::uint16_t type_short = 3;
}  // namespace

std::uint16_t read_exif_orientation(ByteView exif) {
    if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0) exif = exif.subspan(6);
    if (exif.size() < 8) return 0;
    const std::uint8_t* p = exif.data();
    bool big_endian = false;
    if (p[0] == 'M' && p[1] == 'M') {
        big_endian = true;
    } else if (!(p[0] == 'I' && p[1] == 'I')) {
        return 0;
    }
    auto u16 = [&](std::size_t at) { return big_endian ? detail::load_be16(p + at) : detail::load_le16(p + at); };
    auto u32 = [&](std::size_t at) { return big_endian ? detail::load_be32(p + at) : detail::load_le32(p + at); };
    if (u16(2) != 42) return 0;
    const std::size_t ifd = u32(4);
    if (ifd > exif.size() - 2) return 0;
    const std::size_t count = u16(ifd);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t entry = ifd + 2 + 12 * i;
        if (entry + 12 > exif.size()) return 0;  // (size - 12 would wrap for blocks under 12 bytes)
        if (u16(entry) != orientation_tag) continue;
        if (u16(entry + 2) != type_short || u32(entry + 4) != 1) return 0;
        const std::uint16_t value = u16(entry + 8);
        return value >= 1 && value <= 8 ? value : 0;
    }
    return 0;
}

Bytes make_orientation_exif(std::uint16_t orientation) {
    // "MM", 42, IFD0 at 8; one entry (tag, SHORT, count 1, value left-justified); no next IFD.
    Bytes b(26, 0);
    b[0] = 'M';
    b[1] = 'M';
    detail::store_be16(&b[2], 42);
    detail::store_be32(&b[4], 8);
    detail::store_be16(&b[8], 1);
    detail::store_be16(&b[10], orientation_tag);
    detail::store_be16(&b[12], type_short);
    detail::store_be32(&b[14], 1);
    detail::store_be16(&b[18], orientation);
    return b;
}

}  // namespace veil::exif_strip
