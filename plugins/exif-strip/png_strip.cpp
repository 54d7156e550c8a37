#include "png_strip.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "byte_order.hpp"
#include "exif_orientation.hpp"

namespace veil::exif_strip {
namespace {

constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// Chunks that define how the picture looks (PNG 3rd edition, including APNG and HDR).
constexpr std::array<std::string_view, 19> kept_chunks = {
    "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP",
    "mDCv", "cLLi", "cLLI", "sBIT", "pHYs", "bKGD", "acTL", "fcTL", "fdAT"};

bool is_kept(std::string_view type) {
    return std::find(kept_chunks.begin(), kept_chunks.end(), type) != kept_chunks.end();
}

bool is_letter(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

std::uint32_t chunk_crc(ByteView type_and_data) {
    // zlib's crc32 takes a uInt length; chunks are at most 2^31 bytes, so feed it in parts.
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < type_and_data.size()) {
        const std::size_t n = std::min<std::size_t>(type_and_data.size() - done, 1u << 30);
        crc = crc32(crc, type_and_data.data() + done, static_cast<uInt>(n));
        done += n;
    }
    return static_cast<std::uint32_t>(crc);
}

void append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

void append_chunk(Bytes& out, std::string_view type, ByteView data) {
    std::uint8_t head[8];
    detail::store_be32(head, static_cast<std::uint32_t>(data.size()));
    std::memcpy(head + 4, type.data(), 4);
    append(out, head);
    const std::size_t crc_from = out.size() - 4;
    append(out, data);
    std::uint8_t crc[4];
    detail::store_be32(crc, chunk_crc(ByteView(out).subspan(crc_from)));
    append(out, crc);
}

// The orientation of the first eXIf chunk, 0 if none (errors are left to the main pass).
std::uint16_t find_orientation(ByteView in) {
    std::size_t p = 8;
    while (p + 12 <= in.size()) {
        const std::size_t length = detail::load_be32(&in[p]);
        if (length > in.size() - p - 12) return 0;
        if (std::memcmp(&in[p + 4], "eXIf", 4) == 0) return read_exif_orientation(in.subspan(p + 8, length));
        if (std::memcmp(&in[p + 4], "IEND", 4) == 0) return 0;
        p += 12 + length;
    }
    return 0;
}

}  // namespace

void strip_png(ByteView in, const StripOptions& options, StripResult& out) {
    out.clear();
    if (in.size() < 8 || std::memcmp(in.data(), png_signature, 8) != 0) throw FormatError("not a PNG: bad signature");
    out.orientation = find_orientation(in);
    bool orientation_due = options.orientation == OrientationMode::keep && out.orientation > 1;
    out.bytes.reserve(in.size());
    append(out.bytes, in.subspan(0, 8));

    std::size_t pos = 8;
    bool seen_idat = false;
    for (bool first = true;; first = false) {
        if (in.size() - pos < 12) throw FormatError("truncated PNG: no IEND chunk");
        const std::size_t length = detail::load_be32(&in[pos]);
        if (length > 0x7FFFFFFFu) throw FormatError("PNG: chunk length over 2^31 at offset " + std::to_string(pos));
        if (length > in.size() - pos - 12) throw FormatError("truncated PNG: chunk at offset " + std::to_string(pos) + " runs past the end");
        const std::string_view type(reinterpret_cast<const char*>(&in[pos + 4]), 4);
        if (!std::all_of(type.begin(), type.end(), [](char c) { return is_letter(static_cast<std::uint8_t>(c)); })) {
            throw FormatError("PNG: invalid chunk type at offset " + std::to_string(pos));
        }
        const std::string name(type);
        if (chunk_crc(in.subspan(pos + 4, 4 + length)) != detail::load_be32(&in[pos + 8 + length])) {
            throw FormatError("PNG: CRC mismatch in chunk " + name + " at offset " + std::to_string(pos));
        }
        if (first && (type != "IHDR" || length != 13)) throw FormatError("PNG: first chunk is not a valid IHDR");
        const ByteView whole = in.subspan(pos, 12 + length);
        pos += 12 + length;

        if (type == "IEND") {
            if (!seen_idat) throw FormatError("PNG: no IDAT chunk before IEND");
            append(out.bytes, whole);
            if (pos < in.size()) out.removed.push_back("data after IEND (" + std::to_string(in.size() - pos) + " bytes)");
            return;
        }
        if (is_kept(type)) {
            if (type == "IDAT") {
                seen_idat = true;
                if (orientation_due) {  // eXIf must come before the image data
                    append_chunk(out.bytes, "eXIf", make_orientation_exif(out.orientation));
                    out.orientation_kept = true;
                    orientation_due = false;
                }
            }
            append(out.bytes, whole);
        } else if (!(type[0] & 0x20)) {  // upper-case first letter: critical, cannot be skipped
            throw FormatError("PNG: unknown critical chunk " + name);
        } else {
            out.removed.push_back(name + " (" + std::to_string(length) + " bytes)");
        }
    }
}

}  // namespace veil::exif_strip
