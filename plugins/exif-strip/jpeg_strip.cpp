#include "jpeg_strip.hpp"

#include <cstring>
#include <string>

#include "byte_order.hpp"
#include "exif_orientation.hpp"
#include "jpeg_scan.hpp"

namespace veil::exif_strip {
namespace {

constexpr std::uint8_t SOI = 0xD8, EOI = 0xD9, SOS = 0xDA, APP0 = 0xE0, APP1 = 0xE1, APP2 = 0xE2,
                       APP13 = 0xED, APP14 = 0xEE, COM = 0xFE;
// Room for the orientation block the output may gain over the input.
constexpr std::size_t output_slack_bytes = 64;

bool starts_with(ByteView b, std::string_view prefix) {
    return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

bool is_frame_marker(std::uint8_t m) {  // SOF0..SOF15 less DHT (C4), JPG (C8), DAC (CC)
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

bool is_table_marker(std::uint8_t m) {  // DHT, DAC, DQT, DNL, DRI, EXP
    return m == 0xC4 || m == 0xCC || m == 0xDB || m == 0xDC || m == 0xDD || m == 0xDF;
}

std::string hex_marker(std::uint8_t m) {
    static constexpr char digits[] = "0123456789ABCDEF";
    return std::string("0xFF") + digits[m >> 4] + digits[m & 15];
}

std::string describe_app(std::uint8_t marker, ByteView payload) {
    std::string name = "APP" + std::to_string(marker - APP0);
    if (marker == APP1 && starts_with(payload, std::string_view("Exif\0", 5))) return name + " Exif";
    if (marker == APP1 && starts_with(payload, "http://ns.adobe.com/xap/1.0/")) return name + " XMP";
    if (marker == APP1 && starts_with(payload, "http://ns.adobe.com/xmp/extension/")) return name + " extended XMP";
    if (marker == APP13) return name + " Photoshop/IPTC";
    if (marker == APP2 && starts_with(payload, "MPF")) return name + " MPF (extra images)";
    if (marker == APP2 && starts_with(payload, "FPXR")) return name + " FlashPix";
    return name;
}

class JpegStripper final {
public:
    JpegStripper(ByteView in, const StripOptions& options, StripResult& out)
        : in_(in), options_(options), out_(out) {}

    void run() {
        if (in_.size() < 4 || in_[0] != 0xFF || in_[1] != SOI) throw FormatError("not a JPEG: no SOI marker");
        find_orientation();
        // Sized once (no zero-fill when the buffer is reused); cut to w_ at the end.
        if (out_.bytes.size() < in_.size() + output_slack_bytes) out_.bytes.resize(in_.size() + output_slack_bytes);
        append(in_.subspan(0, 2));
        pos_ = 2;
        for (;;) {
            const std::uint8_t marker = next_marker();
            if (marker == EOI) {
                finish();
                out_.bytes.resize(w_);
                return;
            }
            segment(marker);
        }
    }

private:
    // Reads the marker at pos_ (after optional fill bytes) and moves past it.
    std::uint8_t next_marker() {
        if (pos_ >= in_.size()) throw FormatError("truncated JPEG: no EOI marker");
        if (in_[pos_] != 0xFF) {  // stray bytes between segments: decoders skip them, so do we
            const void* ff = std::memchr(&in_[pos_], 0xFF, in_.size() - pos_);
            if (ff == nullptr) throw FormatError("truncated JPEG: no EOI marker");
            const auto skipped = static_cast<std::size_t>(static_cast<const std::uint8_t*>(ff) - &in_[pos_]);
            remove("stray bytes between segments", skipped);
            pos_ += skipped;
        }
        while (pos_ + 1 < in_.size() && in_[pos_ + 1] == 0xFF) ++pos_;  // fill bytes
        if (pos_ + 1 >= in_.size()) throw FormatError("truncated JPEG: no EOI marker");
        const std::uint8_t marker = in_[pos_ + 1];
        pos_ += 2;
        return marker;
    }

    void finish() {
        if (!seen_scan_) throw FormatError("JPEG: EOI before any scan");
        const std::uint8_t eoi[2] = {0xFF, EOI};
        append(eoi);
        if (pos_ < in_.size()) out_.removed.push_back("data after EOI (" + std::to_string(in_.size() - pos_) + " bytes)");
    }

    void segment(std::uint8_t marker) {
        if (marker == SOI || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            throw FormatError("JPEG: unexpected marker " + hex_marker(marker) + " at offset " + std::to_string(pos_ - 2));
        }
        if (pos_ + 2 > in_.size()) throw FormatError("truncated JPEG: segment " + hex_marker(marker) + " has no length");
        const std::size_t length = detail::load_be16(&in_[pos_]);
        if (length < 2 || length > in_.size() - pos_) {
            throw FormatError("JPEG: segment " + hex_marker(marker) + " at offset " + std::to_string(pos_ - 2) +
                              " runs past the end of the file");
        }
        const ByteView whole = in_.subspan(pos_ - 2, length + 2);
        const ByteView payload = in_.subspan(pos_ + 2, length - 2);
        pos_ += length;

        if (marker == APP0 && starts_with(payload, std::string_view("JFIF\0", 5)) && payload.size() >= 14) {
            keep_jfif(payload);
        } else if ((marker == APP2 && starts_with(payload, std::string_view("ICC_PROFILE\0", 12))) ||
                   (marker == APP14 && starts_with(payload, "Adobe"))) {
            keep(whole);
        } else if (marker >= APP0 && marker <= 0xEF) {
            remove(describe_app(marker, payload), whole.size());
        } else if (marker == COM) {
            remove("COM comment", whole.size());
        } else if (is_frame_marker(marker)) {
            seen_frame_ = true;
            keep(whole);
        } else if (is_table_marker(marker)) {
            keep(whole);
        } else if (marker == SOS) {
            if (!seen_frame_) throw FormatError("JPEG: scan before the frame header");
            keep(whole);
            copy_scan();
        } else {
            throw FormatError("JPEG: unexpected marker " + hex_marker(marker) + " at offset " + std::to_string(pos_ - length - 2));
        }
    }

    // Copies entropy-coded data up to the next marker that is neither a stuffed 0xFF00 nor RSTn,
    // scanning and copying in one pass.
    void copy_scan() {
        const std::size_t length = detail::copy_until_marker(in_.data() + pos_, 0, in_.size() - pos_, out_.bytes.data() + w_);
        if (length == detail::no_marker) throw FormatError("truncated JPEG: scan data runs to the end of the file (no EOI marker)");
        w_ += length;
        pos_ += length;
        seen_scan_ = true;
    }

    // JFIF header with its optional uncompressed thumbnail cut off (size set to 0x0).
    // (Orientation is written after it: JFIF must stay the first segment.)
    void keep_jfif(ByteView payload) {
        std::uint8_t seg[18] = {0xFF, APP0, 0x00, 16};
        std::memcpy(seg + 4, payload.data(), 12);
        seg[16] = 0;
        seg[17] = 0;
        append(seg);
        if (payload.size() > 14) remove("JFIF thumbnail", payload.size() - 14);
    }

    void keep(ByteView whole) {
        write_orientation_if_due();
        append(whole);
    }

    void remove(std::string what, std::size_t bytes) {
        out_.removed.push_back(std::move(what) + " (" + std::to_string(bytes) + " bytes)");
    }

    // The orientation goes in an APP1 Exif right after SOI/JFIF, before any other segment.
    void write_orientation_if_due() {
        if (!orientation_due_) return;
        orientation_due_ = false;
        const Bytes tiff = make_orientation_exif(out_.orientation);
        const std::size_t length = 2 + 6 + tiff.size();
        std::uint8_t head[10] = {0xFF, APP1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
        detail::store_be16(head + 2, static_cast<std::uint16_t>(length));
        append(head);
        append(tiff);
        out_.orientation_kept = true;
    }

    // Pre-pass over the header segments for the EXIF orientation (errors are left to run()).
    void find_orientation() {
        std::size_t p = 2;
        while (p + 4 <= in_.size() && in_[p] == 0xFF) {
            const std::uint8_t marker = in_[p + 1];
            if (marker == SOS || marker == EOI) break;
            const std::size_t length = detail::load_be16(&in_[p + 2]);
            if (length < 2 || length > in_.size() - p - 2) break;
            const ByteView payload = in_.subspan(p + 4, length - 2);
            if (marker == APP1 && starts_with(payload, std::string_view("Exif\0", 5))) {
                out_.orientation = read_exif_orientation(payload);
                break;
            }
            p += 2 + length;
        }
        orientation_due_ = options_.orientation == OrientationMode::keep && out_.orientation > 1;
    }

    void append(ByteView b) {
        std::memcpy(out_.bytes.data() + w_, b.data(), b.size());
        w_ += b.size();
    }

    ByteView in_;
    const StripOptions& options_;
    StripResult& out_;
    std::size_t pos_ = 0;  // read position in in_
    std::size_t w_ = 0;    // write position in out_.bytes
    bool seen_frame_ = false;
    bool seen_scan_ = false;
    bool orientation_due_ = false;
};

}  // namespace

void strip_jpeg(ByteView in, const StripOptions& options, StripResult& out) {
    out.removed.clear();  // out.bytes keeps its size: it is overwritten, then cut to length
    out.orientation = 0;
    out.orientation_kept = false;
    JpegStripper(in, options, out).run();
}

}  // namespace veil::exif_strip
