#include "webp_strip.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "byte_order.hpp"
#include "exif_orientation.hpp"

namespace veil::exif_strip {
namespace {

constexpr std::uint8_t flag_icc = 0x20, flag_alpha = 0x10, flag_exif = 0x08, flag_xmp = 0x04;

struct Chunk final {
    std::string_view fourcc;
    ByteView payload;
    ByteView whole;  // header, payload and padding
};

// Splits a sequence of RIFF chunks; throws on any chunk that runs past the end.
template <typename F>
void for_each_chunk(ByteView body, const char* where, F&& f) {
    std::size_t p = 0;
    while (p < body.size()) {
        if (body.size() - p < 8) throw FormatError(std::string("truncated WebP: partial chunk header in ") + where);
        const std::size_t size = detail::load_le32(&body[p + 4]);
        if (size > body.size() - p - 8) throw FormatError(std::string("truncated WebP: chunk runs past the end of ") + where);
        const std::size_t padded = std::min(size + (size & 1), body.size() - p - 8);  // last pad byte may be missing
        f(Chunk{std::string_view(reinterpret_cast<const char*>(&body[p]), 4), body.subspan(p + 8, size),
                body.subspan(p, 8 + padded)});
        p += 8 + padded;
    }
}

void append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

// Appends a chunk whole, adding the pad byte the input may have lacked at its very end.
void append_chunk(Bytes& out, const Chunk& c) {
    append(out, c.whole);
    if (c.whole.size() & 1) out.push_back(0);
}

void append_chunk_header(Bytes& out, std::string_view fourcc, std::size_t size) {
    std::uint8_t head[8];
    std::memcpy(head, fourcc.data(), 4);
    detail::store_le32(head + 4, static_cast<std::uint32_t>(size));
    append(out, head);
}

void removed(StripResult& out, std::string_view fourcc, std::size_t size) {
    out.removed.push_back(std::string(fourcc) + " (" + std::to_string(size) + " bytes)");
}

bool is_bitstream(std::string_view c) { return c == "VP8 " || c == "VP8L"; }

// True for an ALPH chunk, or a VP8L bitstream whose header says it uses alpha.
bool carries_alpha(const Chunk& c) {
    if (c.fourcc == "ALPH") return true;
    return c.fourcc == "VP8L" && c.payload.size() >= 5 && ((detail::load_le32(&c.payload[1]) >> 28) & 1) != 0;
}

// An animation frame: 16-byte header, then ALPH/VP8/VP8L (other sub-chunks removed).
void append_frame(const Chunk& frame, StripResult& out, bool& alpha) {
    if (frame.payload.size() < 16) throw FormatError("WebP: ANMF chunk shorter than its header");
    const std::size_t start = out.bytes.size();
    append_chunk_header(out.bytes, "ANMF", 0);
    append(out.bytes, frame.payload.subspan(0, 16));
    bool has_image = false;
    for_each_chunk(frame.payload.subspan(16), "an ANMF frame", [&](const Chunk& c) {
        if (c.fourcc == "ALPH" || is_bitstream(c.fourcc)) {
            has_image = has_image || is_bitstream(c.fourcc);
            alpha = alpha || carries_alpha(c);
            append_chunk(out.bytes, c);
        } else {
            removed(out, c.fourcc, c.payload.size());
        }
    });
    if (!has_image) throw FormatError("WebP: ANMF frame without image data");
    const std::size_t size = out.bytes.size() - start - 8;
    detail::store_le32(&out.bytes[start + 4], static_cast<std::uint32_t>(size));
    if (size & 1) out.bytes.push_back(0);
}

}  // namespace

void strip_webp(ByteView in, const StripOptions& options, StripResult& out) {
    out.clear();
    if (in.size() < 12 || std::memcmp(in.data(), "RIFF", 4) != 0 || std::memcmp(&in[8], "WEBP", 4) != 0) {
        throw FormatError("not a WebP: bad RIFF header");
    }
    const std::size_t riff_size = detail::load_le32(&in[4]);
    if (riff_size < 4 || riff_size > in.size() - 8) throw FormatError("truncated WebP: RIFF size exceeds the file");
    const ByteView body = in.subspan(12, riff_size - 4);

    // First pass: check the layout, find the orientation and whether an ICC profile is present.
    bool extended = false, first = true, has_image = false, has_icc = false;
    std::uint16_t orientation = 0;
    for_each_chunk(body, "the file", [&](const Chunk& c) {
        if (first) {
            extended = c.fourcc == "VP8X";
            if (!extended && !is_bitstream(c.fourcc)) throw FormatError("WebP: first chunk is neither VP8, VP8L nor VP8X");
            if (extended && c.payload.size() < 10) throw FormatError("WebP: VP8X chunk too short");
            first = false;
        }
        has_image = has_image || is_bitstream(c.fourcc) || c.fourcc == "ANMF";
        has_icc = has_icc || (extended && c.fourcc == "ICCP");
        if (c.fourcc == "EXIF" && orientation == 0) orientation = read_exif_orientation(c.payload);
    });
    if (!has_image) throw FormatError("WebP: no image data");
    out.orientation = orientation;
    const bool keep_orientation = extended && options.orientation == OrientationMode::keep && orientation > 1;

    out.bytes.reserve(in.size());
    append(out.bytes, in.subspan(0, 12));
    std::size_t vp8x_flags_at = 0;
    bool alpha = false;  // recomputed: some writers leave the VP8X alpha flag wrong
    bool done = false;  // a simple (non-VP8X) file holds exactly one bitstream chunk
    for_each_chunk(body, "the file", [&](const Chunk& c) {
        if (done) {
            removed(out, c.fourcc, c.payload.size());
        } else if (c.fourcc == "VP8X") {
            if (vp8x_flags_at != 0) throw FormatError("WebP: more than one VP8X chunk");
            vp8x_flags_at = out.bytes.size() + 8;
            append_chunk(out.bytes, c);
        } else if (c.fourcc == "ANMF" && extended) {
            append_frame(c, out, alpha);
        } else if (is_bitstream(c.fourcc) || (extended && (c.fourcc == "ICCP" || c.fourcc == "ANIM" || c.fourcc == "ALPH"))) {
            append_chunk(out.bytes, c);
            alpha = alpha || carries_alpha(c);
            done = !extended;
        } else {
            removed(out, c.fourcc, c.payload.size());
        }
    });
    if (keep_orientation) {
        const Bytes tiff = make_orientation_exif(orientation);
        append_chunk_header(out.bytes, "EXIF", tiff.size());
        append(out.bytes, tiff);
        out.orientation_kept = true;
    }
    if (vp8x_flags_at != 0) {
        std::uint8_t& flags = out.bytes[vp8x_flags_at];
        flags = static_cast<std::uint8_t>(flags & ~(flag_exif | flag_xmp | flag_icc | flag_alpha));
        if (has_icc) flags |= flag_icc;
        if (alpha) flags |= flag_alpha;
        if (keep_orientation) flags |= flag_exif;
    }
    detail::store_le32(&out.bytes[4], static_cast<std::uint32_t>(out.bytes.size() - 8));
    if (riff_size + 8 < in.size()) {
        out.removed.push_back("data after the RIFF chunk (" + std::to_string(in.size() - riff_size - 8) + " bytes)");
    }
}

}  // namespace veil::exif_strip
