#include "gif_strip.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace veil::exif_strip {
namespace {

constexpr std::uint8_t kExtension = 0x21, kImage = 0x2C, kTrailer = 0x3B;
constexpr std::uint8_t kGraphicControl = 0xF9, kComment = 0xFE, kPlainText = 0x01, kApplication = 0xFF;

class GifCursor final {
public:
    explicit GifCursor(ByteView in) : in_(in) {}
    [[nodiscard]] std::size_t at() const { return at_; }
    [[nodiscard]] ByteView take(std::size_t n, const char* what) {
        if (in_.size() - at_ < n) throw FormatError(std::string("truncated GIF: ") + what + " past the end");
        const ByteView v = in_.subspan(at_, n);
        at_ += n;
        return v;
    }
    std::uint8_t byte(const char* what) { return take(1, what)[0]; }
    // Skips a chain of data sub-blocks up to and including its terminator; returns the bytes.
    ByteView sub_blocks(const char* what) {
        const std::size_t from = at_;
        for (std::uint8_t n = byte(what); n != 0; n = byte(what)) (void)take(n, what);
        return in_.subspan(from, at_ - from);
    }
    [[nodiscard]] ByteView since(std::size_t from) const { return in_.subspan(from, at_ - from); }
    [[nodiscard]] std::size_t left() const { return in_.size() - at_; }

private:
    ByteView in_;
    std::size_t at_ = 0;
};

void append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

std::size_t color_table_bytes(std::uint8_t packed) { return (packed & 0x80) ? 3u << ((packed & 7) + 1) : 0; }

// An application extension after its label: the loop count of NETSCAPE2.0/ANIMEXTS1.0 is
// written back alone (canonical form); anything else (XMP, ICC, private data) is dropped.
void application(GifCursor& c, Bytes& out, std::vector<std::string>& removed) {
    const std::size_t from = c.at();
    const std::uint8_t id_size = c.byte("application extension");
    const ByteView id = c.take(id_size, "application extension");
    const std::string_view name(reinterpret_cast<const char*>(id.data()), id.size());
    const bool looping = name == "NETSCAPE2.0" || name == "ANIMEXTS1.0";
    const std::uint8_t* loop = nullptr;
    for (std::uint8_t n = c.byte("application data"); n != 0; n = c.byte("application data")) {
        const ByteView block = c.take(n, "application data");
        if (looping && n == 3 && block[0] == 1 && loop == nullptr) loop = block.data() + 1;
    }
    if (loop) {
        const std::uint8_t head[] = {kExtension, kApplication, 11};
        append(out, head);
        append(out, id);
        const std::uint8_t data[] = {3, 1, loop[0], loop[1], 0};
        append(out, data);
        return;
    }
    std::string shown;
    for (char ch : name) shown += (ch >= 0x20 && ch < 0x7F) ? ch : '?';
    removed.push_back("application extension '" + shown + "' (" + std::to_string(c.at() - from + 2) + " bytes)");
}

}  // namespace

void strip_gif(ByteView in, const StripOptions& /*options: GIF has no orientation*/, StripResult& out) {
    out.clear();
    GifCursor c(in);
    const ByteView header = c.take(6, "header");
    if (std::memcmp(header.data(), "GIF87a", 6) != 0 && std::memcmp(header.data(), "GIF89a", 6) != 0)
        throw FormatError("not a GIF87a/GIF89a file");
    const ByteView screen = c.take(7, "logical screen descriptor");
    out.bytes.reserve(in.size());
    append(out.bytes, header);
    append(out.bytes, screen);
    append(out.bytes, c.take(color_table_bytes(screen[4]), "global colour table"));
    Bytes control;  // a graphic control extension waits for the block it applies to
    std::size_t images = 0;
    for (;;) {
        const std::size_t from = c.at();
        const std::uint8_t introducer = c.byte("trailer");
        if (introducer == kTrailer) break;
        if (introducer == kImage) {
            const ByteView descriptor = c.take(9, "image descriptor");
            (void)c.take(color_table_bytes(descriptor[8]), "local colour table");
            const std::uint8_t lzw_min = c.byte("LZW code size");
            if (lzw_min < 1 || lzw_min > 11) throw FormatError("GIF: bad LZW code size");
            (void)c.sub_blocks("image data");
            append(out.bytes, control);
            control.clear();
            append(out.bytes, c.since(from));
            ++images;
            continue;
        }
        if (introducer != kExtension) throw FormatError("GIF: unknown block type at byte " + std::to_string(from));
        const std::uint8_t label = c.byte("extension label");
        if (label == kApplication) {
            application(c, out.bytes, out.removed);
            continue;
        }
        (void)c.sub_blocks("extension data");
        if (label == kGraphicControl) {
            const ByteView ext = c.since(from);
            if (ext.size() != 8 || ext[2] != 4) throw FormatError("GIF: bad graphic control extension");
            if (!control.empty()) out.removed.push_back("unused graphic control extension (8 bytes)");
            control.assign(ext.begin(), ext.end());
        } else if (label == kPlainText) {
            // Drawn by almost no decoder (browsers ignore it), so its text is hidden from the
            // sender: dropped, with the graphic control that would have timed it.
            out.removed.push_back("plain text extension (" + std::to_string(c.at() - from) + " bytes)");
            if (!control.empty()) out.removed.push_back("its graphic control extension (8 bytes)");
            control.clear();
        } else {
            out.removed.push_back(std::string(label == kComment ? "comment extension" : "unknown extension") + " (" +
                                  std::to_string(c.at() - from) + " bytes)");
        }
    }
    if (images == 0) throw FormatError("GIF: no image");
    if (!control.empty()) out.removed.push_back("unused graphic control extension (8 bytes)");
    out.bytes.push_back(kTrailer);
    if (c.left() > 0) out.removed.push_back("data after the trailer (" + std::to_string(c.left()) + " bytes)");
}

}  // namespace veil::exif_strip
