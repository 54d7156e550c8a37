#include "tiff_strip.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <string>

#include "byte_order.hpp"

namespace veil::exif_strip {
namespace {

constexpr std::uint16_t kOrientation = 274;
constexpr std::uint16_t kStripOffsets = 273, kStripByteCounts = 279;
constexpr std::uint16_t kTileOffsets = 324, kTileByteCounts = 325;
constexpr std::uint16_t kCompression = 259, kDngVersion = 50706;
constexpr std::uint16_t kOldJpeg = 6;
constexpr std::uint16_t kNewSubfileType = 254, kSubfileType = 255, kJpegTables = 347;
constexpr std::uint16_t kPhotometric = 262, kSubIfds = 330;
constexpr std::uint16_t kBitsPerSample = 258, kSamplesPerPixel = 277, kTransferFunction = 301, kColorMap = 320;
constexpr std::uint16_t kNumberOfInks = 334, kExtraSamples = 338, kSampleFormat = 339;

// Compressions a TIFF decoder (libtiff) draws by itself. A camera maker's own (Pentax PEF's
// 65535, Sony's 32767, Nikon's 34713, Kodak's 65000...) needs decoding parameters that live in
// the maker note this stripper drops: such a raw would come out damaged, so it is refused.
constexpr std::array<std::uint32_t, 15> drawable_compressions = {
    1, 2, 3, 4, 5, 7, 8,  // none, CCITT RLE/G3/G4, LZW, JPEG, Deflate
    32773, 32946,         // PackBits, old Deflate
    34676, 34677,         // SGI LogL, LogLuv
    34887, 34925,         // LERC, LZMA
    50000, 50001,         // ZSTD, WebP
};

// Raw sensor data (TIFF/EP and DNG PhotometricInterpretation): a colour filter array mosaic
// (PEF, NEF, ARW, SRW, ERF...) or linear raw. Its black levels, white balance and colour
// matrices are in tags this stripper drops (CFAPattern, maker notes): refused, not damaged.
bool is_sensor_data(std::uint32_t photometric) { return photometric == 32803 || photometric == 34892; }

constexpr const char* kRawRefusal = "camera raw image (sensor data: CFA or linear raw, as in PEF, NEF, ARW) is not rewritten";

// TIFF field types a kept tag may have, as bits (1 << type).
constexpr std::uint32_t kShort = 1u << 3, kLong = 1u << 4, kRational = 1u << 5, kUndefined = 1u << 7, kByte = 1u << 1;

// A kept tag's form (TIFF 6.0): the types it may have and how many values (0: a table, whose
// length the page fixes: see check_tables). Anything else could carry text (an XResolution of
// 200 ASCII bytes). SMin/SMaxSampleValue, display hints of any number type, are dropped.
struct KeptTag final {
    std::uint16_t tag;
    std::uint32_t types;
    std::uint32_t count;
};

// What a decoder needs to draw a page (TIFF 6.0 and its common extensions), sorted: size and
// layout, samples, compression and its tables, colour (photometric, colour map, YCbCr, ICC,
// white point), resolution. Orientation is handled apart (StripOptions).
constexpr std::array<KeptTag, 37> kept_tags = {{
    {254, kLong | kShort | kByte, 1},      // NewSubfileType (marks reduced-resolution and mask pages)
    {255, kShort, 1},                      // SubfileType
    {256, kShort | kLong, 1},              // ImageWidth
    {257, kShort | kLong, 1},              // ImageLength
    {258, kShort, 0},                      // BitsPerSample (one per sample)
    {259, kShort | kLong, 1},              // Compression
    {262, kShort, 1},                      // PhotometricInterpretation
    {266, kShort, 1},                      // FillOrder
    {273, kShort | kLong, 0},              // StripOffsets
    {277, kShort, 1},                      // SamplesPerPixel
    {278, kShort | kLong, 1},              // RowsPerStrip
    {279, kShort | kLong, 0},              // StripByteCounts
    {282, kRational, 1},                   // XResolution
    {283, kRational, 1},                   // YResolution
    {284, kShort, 1},                      // PlanarConfiguration
    {292, kLong, 1},                       // T4Options
    {293, kLong, 1},                       // T6Options
    {296, kShort, 1},                      // ResolutionUnit
    {301, kShort, 0},                      // TransferFunction
    {317, kShort, 1},                      // Predictor
    {318, kRational, 2},                   // WhitePoint
    {319, kRational, 6},                   // PrimaryChromaticities
    {320, kShort, 0},                      // ColorMap
    {322, kShort | kLong, 1},              // TileWidth
    {323, kShort | kLong, 1},              // TileLength
    {324, kLong, 0},                       // TileOffsets
    {325, kShort | kLong, 0},              // TileByteCounts
    {332, kShort, 1},                      // InkSet
    {334, kShort, 1},                      // NumberOfInks
    {338, kShort, 0},                      // ExtraSamples
    {339, kShort, 0},                      // SampleFormat
    {347, kUndefined, 0},                  // JPEGTables
    {529, kRational, 3},                   // YCbCrCoefficients
    {530, kShort, 2},                      // YCbCrSubSampling
    {531, kShort, 1},                      // YCbCrPositioning
    {532, kRational | kLong, 6},           // ReferenceBlackWhite
    {34675, kUndefined | kByte, 0},        // ICC profile
}};

const KeptTag* kept_form(std::uint16_t tag) {
    const auto it = std::lower_bound(kept_tags.begin(), kept_tags.end(), tag, [](const KeptTag& k, std::uint16_t t) { return k.tag < t; });
    return it != kept_tags.end() && it->tag == tag ? &*it : nullptr;
}

bool is_kept(std::uint16_t tag) { return kept_form(tag) != nullptr; }

// True when a kept tag has one of its types and, for a single value, the right count.
bool has_kept_form(const KeptTag& k, std::uint16_t type, std::uint32_t count) {
    return type < 32 && (k.types & (1u << type)) != 0 && (k.count == 0 || count == k.count);
}

// Tags that point to further IFDs (their tables are bounds-checked, then dropped).
bool points_to_ifd(std::uint16_t tag) { return tag == 330 || tag == 34665 || tag == 34853 || tag == 40965; }

std::string tag_name(std::uint16_t tag) {
    switch (tag) {
        case 269: return "DocumentName";
        case 270: return "ImageDescription";
        case 271: return "Make";
        case 272: return "Model";
        case 274: return "Orientation";
        case 285: return "PageName";
        case 305: return "Software";
        case 306: return "DateTime";
        case 315: return "Artist";
        case 316: return "HostComputer";
        case 258: return "BitsPerSample";
        case 301: return "TransferFunction";
        case 320: return "ColorMap";
        case 330: return "SubIFDs (thumbnails)";
        case 338: return "ExtraSamples";
        case 339: return "SampleFormat";
        case 700: return "XMP";
        case 33432: return "Copyright";
        case 33723: return "IPTC";
        case 34377: return "Photoshop";
        case 34665: return "EXIF IFD";
        case 34853: return "GPS IFD";
        case 37724: return "ImageSourceData";
        case 40965: return "Interoperability IFD";
        case 42016: return "ImageUniqueID";
        default: return "tag " + std::to_string(tag);
    }
}

// Bytes per value of each TIFF field type (1..13); 0 = unknown type.
std::size_t type_size(std::uint16_t type) {
    constexpr std::array<std::uint8_t, 14> sizes = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < sizes.size() ? sizes[type] : 0;
}

struct Entry final {
    std::uint16_t tag = 0;
    std::uint16_t type = 0;
    std::uint32_t count = 0;
    std::size_t value_at = 0;  // where the value bytes are in the input
    std::size_t size = 0;      // count * type_size
};

class TiffReader final {
public:
    explicit TiffReader(ByteView in) : in_(in), little_(in[0] == 'I') {}
    [[nodiscard]] bool little() const { return little_; }
    [[nodiscard]] std::uint16_t u16(std::size_t at) const {
        return little_ ? detail::load_le16(&in_[at]) : detail::load_be16(&in_[at]);
    }
    [[nodiscard]] std::uint32_t u32(std::size_t at) const {
        return little_ ? detail::load_le32(&in_[at]) : detail::load_be32(&in_[at]);
    }
    // One value of a SHORT or LONG array entry.
    [[nodiscard]] std::uint32_t number(const Entry& e, std::size_t i) const {
        return e.type == 3 ? u16(e.value_at + 2 * i) : u32(e.value_at + 4 * i);
    }
    // The number of entries of the IFD at off, after checking its table lies inside the file.
    [[nodiscard]] std::size_t ifd_entries(std::size_t off) const {
        if (off < 8 || off > in_.size() || in_.size() - off < 2) throw FormatError("truncated TIFF: IFD past the end");
        const std::size_t n = u16(off);
        if (in_.size() - off - 2 < 12 * n + 4) throw FormatError("truncated TIFF: IFD entries past the end");
        return n;
    }
    // Reads entry i of the IFD at off; its value must lie inside the file (whatever its tag, so
    // a cut file is refused even when only metadata was cut).
    [[nodiscard]] Entry entry(std::size_t off, std::size_t i) const {
        const std::size_t at = off + 2 + 12 * i;
        Entry e{u16(at), u16(at + 2), u32(at + 4), at + 8, 0};
        const std::size_t unit = type_size(e.type);
        if (unit == 0) {
            if (is_kept(e.tag) || e.tag == kOrientation) throw FormatError("TIFF: " + tag_name(e.tag) + " has an unknown type");
            return e;  // unknown type: skipped, and dropped
        }
        if (e.count > in_.size() / unit) throw FormatError("truncated TIFF: " + tag_name(e.tag) + " value past the end");
        e.size = e.count * unit;
        if (e.size > 4) {
            e.value_at = u32(at + 8);
            if (e.value_at > in_.size() || in_.size() - e.value_at < e.size)
                throw FormatError("truncated TIFF: " + tag_name(e.tag) + " value past the end");
        }
        return e;
    }

private:
    ByteView in_;
    bool little_;
};

class TiffWriter final {
public:
    TiffWriter(Bytes& out, bool little) : out_(out), little_(little) {}
    void u16(std::uint16_t v) {
        std::uint8_t b[2];
        little_ ? detail::store_le16(b, v) : detail::store_be16(b, v);
        out_.insert(out_.end(), b, b + 2);
    }
    void u32(std::uint32_t v) {
        std::uint8_t b[4];
        little_ ? detail::store_le32(b, v) : detail::store_be32(b, v);
        out_.insert(out_.end(), b, b + 4);
    }
    void patch_u32(std::size_t at, std::uint32_t v) {
        little_ ? detail::store_le32(&out_[at], v) : detail::store_be32(&out_[at], v);
    }
    // The current end as a TIFF offset, after padding to a word boundary.
    std::uint32_t aligned_offset() {
        if (out_.size() % 2) out_.push_back(0);
        return offset();
    }
    [[nodiscard]] std::uint32_t offset() const {
        if (out_.size() > std::numeric_limits<std::uint32_t>::max()) throw FormatError("TIFF: output over 4 GiB");
        return static_cast<std::uint32_t>(out_.size());
    }
    void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
    [[nodiscard]] bool little() const { return little_; }

private:
    Bytes& out_;
    bool little_;
};

// Bytes the output may still take from the input: each IFD table, kept value and strip is
// charged once, so a file whose pages share bytes (an IFD chain through overlapping tables, one
// strip drawn by a thousand pages) cannot make an output many times its size.
class Budget final {
public:
    explicit Budget(std::size_t bytes) : left_(bytes) {}
    void charge(std::size_t n) {
        if (n > left_) throw FormatError("TIFF: the same bytes are referenced more than once");
        left_ -= n;
    }
    // Charges n for the table at `offset` the first time it is read; false when it was read before.
    bool charge_once(std::size_t offset, std::size_t n) {
        if (!read_.insert(offset).second) return false;
        charge(n);
        return true;
    }

private:
    std::size_t left_;
    std::set<std::size_t> read_;
};

// JPEGTables (an abbreviated JPEG stream: SOI, DQT/DHT..., EOI) is kept, as it draws the page,
// but a writer may have put APPn (EXIF, XMP) or COM segments in it: those are dropped.
Bytes jpeg_tables_without_appn(ByteView v) {
    if (v.size() < 4 || v[0] != 0xFF || v[1] != 0xD8) throw FormatError("TIFF: JPEGTables is not a JPEG stream");
    Bytes out{0xFF, 0xD8};
    for (std::size_t at = 2;;) {
        if (v.size() - at < 2 || v[at] != 0xFF) throw FormatError("TIFF: bad JPEGTables segment");
        const std::uint8_t marker = v[at + 1];
        if (marker == 0xD9) {
            if (at + 2 != v.size()) throw FormatError("TIFF: data after the end of JPEGTables");
            out.insert(out.end(), {0xFF, 0xD9});
            return out;
        }
        if (v.size() - at < 4) throw FormatError("truncated TIFF: JPEGTables segment");
        const std::size_t length = std::size_t{v[at + 2]} << 8 | v[at + 3];
        if (length < 2 || v.size() - at - 2 < length) throw FormatError("truncated TIFF: JPEGTables segment");
        const bool metadata = (marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE;
        if (!metadata) out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
        at += 2 + length;
    }
}

// One kept entry of the output: its header and the bytes of its value (file byte order).
struct OutEntry final {
    std::uint16_t tag = 0;
    std::uint16_t type = 0;
    std::uint32_t count = 0;
    Bytes value;
};

// Copies one page's strips or tiles and returns their new offsets (as a LONG value).
OutEntry copy_blocks(const TiffReader& r, ByteView in, const Entry& offsets, const Entry& counts, TiffWriter& w,
                     Budget& budget) {
    if ((offsets.type != 3 && offsets.type != 4) || (counts.type != 3 && counts.type != 4))
        throw FormatError("TIFF: strip or tile offsets are not SHORT or LONG");
    if (offsets.count != counts.count) throw FormatError("TIFF: strip or tile offsets and byte counts differ in number");
    if (offsets.count == 0) throw FormatError("TIFF: a page without image data");
    budget.charge(offsets.size);  // written back as LONGs: at most twice that
    Bytes value;
    TiffWriter v(value, w.little());
    for (std::size_t i = 0; i < offsets.count; ++i) {
        const std::size_t at = r.number(offsets, i);
        const std::size_t n = r.number(counts, i);
        if (at > in.size() || in.size() - at < n) throw FormatError("truncated TIFF: image data past the end");
        budget.charge(n);
        v.u32(w.offset());
        w.bytes(in.subspan(at, n));
    }
    return OutEntry{offsets.tag, 4, offsets.count, std::move(value)};
}

// A SubIFD is dropped with its page, but one holding raw sensor data is the picture itself (a
// raw whose IFD0 is a full-size preview): the file is refused rather than sent as its preview.
// Each table is read (and charged) once, however many pointers lead to it.
void refuse_sensor_sub_ifd(const TiffReader& r, std::size_t off, Budget& budget) {
    const std::size_t n = r.ifd_entries(off);
    if (!budget.charge_once(off, 2 + 12 * n + 4)) return;
    for (std::size_t i = 0; i < n; ++i) {
        const Entry e = r.entry(off, i);
        if (e.tag == kPhotometric && (e.type == 3 || e.type == 4) && e.count == 1 && is_sensor_data(r.number(e, 0)))
            throw FormatError(std::string("TIFF: ") + kRawRefusal + " (in a SubIFD)");
    }
}

const Entry* find_entry(const std::vector<Entry>& kept, std::uint16_t tag) {
    const auto it = std::find_if(kept.begin(), kept.end(), [tag](const Entry& e) { return e.tag == tag; });
    return it == kept.end() ? nullptr : &*it;
}

// Colour channels of a photometric interpretation (the samples that are not ExtraSamples).
std::uint32_t colour_channels(std::uint32_t photometric, std::uint32_t inks) {
    switch (photometric) {
        case 2: case 6: case 8: case 9: case 10: case 32845: return 3;  // RGB, YCbCr, Lab, LogLuv
        case 5: return inks;                                             // separated (CMYK: 4)
        default: return 1;                                               // grey, palette, mask
    }
}

// The tables a page keeps have the length the page gives them (TIFF 6.0): one value or one per
// sample, all equal as libtiff requires (BitsPerSample, SampleFormat), 2^BitsPerSample entries
// per colour (ColorMap, TransferFunction), at most the non-colour samples (ExtraSamples, values
// 0-2). Any other length could spell text (16 BitsPerSample SHORTs are 32 ASCII bytes): refused.
void check_tables(const TiffReader& r, const std::vector<Entry>& kept) {
    const auto value = [&](std::uint16_t tag, std::uint32_t absent) {
        const Entry* e = find_entry(kept, tag);
        return e && e->count != 0 ? r.number(*e, 0) : absent;
    };
    const auto refuse = [](std::uint16_t tag) {
        throw FormatError("TIFF: " + tag_name(tag) + " has a count or values the page does not give it");
    };
    const std::uint32_t samples = value(kSamplesPerPixel, 1);
    const std::uint32_t bits = value(kBitsPerSample, 1);
    struct PerSample final {
        std::uint16_t tag;
        std::uint32_t low, high;
    };
    for (const PerSample& p : {PerSample{kBitsPerSample, 1, 64}, PerSample{kSampleFormat, 1, 6}}) {
        const Entry* e = find_entry(kept, p.tag);
        if (!e) continue;
        if (e->count != 1 && e->count != samples) refuse(p.tag);
        for (std::size_t i = 0; i < e->count; ++i) {
            const std::uint32_t v = r.number(*e, i);
            if (v < p.low || v > p.high || v != r.number(*e, 0)) refuse(p.tag);
        }
    }
    if (const Entry* e = find_entry(kept, kExtraSamples)) {
        const std::uint32_t colour = colour_channels(value(kPhotometric, 1), value(kNumberOfInks, 4));
        if (samples < colour || e->count > samples - colour) refuse(kExtraSamples);
        for (std::size_t i = 0; i < e->count; ++i) {
            if (r.number(*e, i) > 2) refuse(kExtraSamples);
        }
    }
    const std::uint64_t entries = bits <= 16 ? std::uint64_t{1} << bits : 0;  // per colour
    if (const Entry* e = find_entry(kept, kColorMap); e && (entries == 0 || e->count != 3 * entries)) refuse(kColorMap);
    if (const Entry* e = find_entry(kept, kTransferFunction); e && (entries == 0 || (e->count != entries && e->count != 3 * entries)))
        refuse(kTransferFunction);
}

// Rewrites one IFD: its kept entries, its image data, and the link to it. Returns the next IFD.
std::size_t strip_page(const TiffReader& r, ByteView in, std::size_t off, std::size_t page, const StripOptions& options,
                       TiffWriter& w, std::size_t link, StripResult& result, Budget& budget) {
    const std::size_t n = r.ifd_entries(off);
    budget.charge(2 + 12 * n + 4);
    std::vector<Entry> kept;
    std::set<std::string> removed;
    for (std::size_t i = 0; i < n; ++i) {
        const Entry e = r.entry(off, i);
        if (points_to_ifd(e.tag) && e.size > 0 && (e.type == 4 || e.type == 13)) {
            budget.charge(e.size);  // walked on every page that points at it: charged each time
            for (std::size_t k = 0; k < e.count; ++k) {
                const std::size_t to = r.number(e, k);
                if (to == 0) continue;  // 0: none
                (void)r.ifd_entries(to);
                if (e.tag == kSubIfds) refuse_sensor_sub_ifd(r, to, budget);
            }
        }
        if (e.tag == kOrientation && e.type == 3 && e.count == 1 && r.u16(e.value_at) >= 1 && r.u16(e.value_at) <= 8) {
            if (page == 0) result.orientation = r.u16(e.value_at);
            if (options.orientation == OrientationMode::keep) {
                if (page == 0) result.orientation_kept = true;
                kept.push_back(e);
                continue;
            }
        }
        if (is_kept(e.tag) && e.type != 0 && type_size(e.type) != 0) {
            if (!has_kept_form(*kept_form(e.tag), e.type, e.count))
                throw FormatError("TIFF: " + tag_name(e.tag) + " has a type or count TIFF 6.0 does not give it");
            kept.push_back(e);
        } else {
            removed.insert(tag_name(e.tag));
        }
    }
    std::sort(kept.begin(), kept.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
    if (std::adjacent_find(kept.begin(), kept.end(), [](const Entry& a, const Entry& b) { return a.tag == b.tag; }) != kept.end())
        throw FormatError("TIFF: a tag appears twice in one IFD");
    const auto find = [&kept](std::uint16_t tag) { return find_entry(kept, tag); };
    check_tables(r, kept);
    if (!find(256) || !find(257)) throw FormatError("TIFF: a page without width or height");
    if (const Entry* c = find(kCompression)) {
        if ((c->type != 3 && c->type != 4) || c->count != 1) throw FormatError("TIFF: Compression is not one SHORT or LONG");
        const std::uint32_t compression = r.number(*c, 0);
        if (compression == kOldJpeg) throw FormatError("old-style JPEG-in-TIFF (compression 6) is not rewritten");
        if (std::find(drawable_compressions.begin(), drawable_compressions.end(), compression) == drawable_compressions.end())
            throw FormatError("TIFF: compression " + std::to_string(compression) + " (a camera maker's raw format, such as PEF) is not rewritten");
    }
    if (const Entry* p = find(kPhotometric); p && (p->type == 3 || p->type == 4) && p->count == 1 && is_sensor_data(r.number(*p, 0)))
        throw FormatError(std::string("TIFF: ") + kRawRefusal);
    const bool tiled = find(kTileOffsets) != nullptr;
    const Entry* offsets = find(tiled ? kTileOffsets : kStripOffsets);
    const Entry* counts = find(tiled ? kTileByteCounts : kStripByteCounts);
    if (!offsets || !counts) throw FormatError("TIFF: a page without strip or tile offsets");

    std::vector<OutEntry> out_entries;
    OutEntry new_offsets = copy_blocks(r, in, *offsets, *counts, w, budget);
    for (const Entry& e : kept) {
        if (e.tag == kStripOffsets || e.tag == kTileOffsets) {
            if (e.tag == offsets->tag) out_entries.push_back(std::move(new_offsets));
            continue;  // a strip table beside a tile table is not used: dropped
        }
        if ((e.tag == kStripByteCounts || e.tag == kTileByteCounts) && e.tag != counts->tag) continue;
        if (e.size > 4) budget.charge(e.size);
        const auto v = in.subspan(e.value_at, e.size);
        if (e.tag == kJpegTables) {
            if (e.type != 7 && e.type != 1) throw FormatError("TIFF: JPEGTables is not UNDEFINED or BYTE");
            Bytes tables = jpeg_tables_without_appn(v);
            if (tables.size() != v.size()) result.removed.push_back("page " + std::to_string(page + 1) + ": APPn/COM in JPEGTables");
            const auto count = static_cast<std::uint32_t>(tables.size());
            out_entries.push_back(OutEntry{e.tag, e.type, count, std::move(tables)});
            continue;
        }
        out_entries.push_back(OutEntry{e.tag, e.type, e.count, Bytes(v.begin(), v.end())});
    }
    // Values longer than 4 bytes go before the IFD, each on a word boundary.
    std::vector<std::uint32_t> value_offsets;
    for (const OutEntry& e : out_entries) {
        if (e.value.size() <= 4) {
            value_offsets.push_back(0);
            continue;
        }
        value_offsets.push_back(w.aligned_offset());
        w.bytes(e.value);
    }
    w.patch_u32(link, w.aligned_offset());
    w.u16(static_cast<std::uint16_t>(out_entries.size()));
    for (std::size_t i = 0; i < out_entries.size(); ++i) {
        const OutEntry& e = out_entries[i];
        w.u16(e.tag);
        w.u16(e.type);
        w.u32(e.count);
        if (e.value.size() > 4) {
            w.u32(value_offsets[i]);
        } else {
            std::array<std::uint8_t, 4> inline_value{};
            std::copy(e.value.begin(), e.value.end(), inline_value.begin());
            w.bytes(inline_value);
        }
    }
    for (const auto& name : removed) result.removed.push_back("page " + std::to_string(page + 1) + ": " + name);
    return r.u32(off + 2 + 12 * n);
}

// NewSubfileType bit 0 (or the old SubfileType 2): a reduced-resolution copy of another page,
// i.e. a thumbnail, which may show the original before it was cropped or edited. Read as BYTE,
// SHORT or LONG (a writer may use any). A DNG is refused here too: its IFD0 is such a page.
bool is_reduced_page(const TiffReader& r, ByteView in, std::size_t off) {
    const std::size_t n = r.ifd_entries(off);
    bool reduced = false;
    for (std::size_t i = 0; i < n; ++i) {
        const Entry e = r.entry(off, i);
        if (e.tag == kDngVersion) throw FormatError("DNG raw images are not rewritten");
        if (e.count != 1 || (e.type != 1 && e.type != 3 && e.type != 4)) continue;
        const std::uint32_t v = e.type == 1 ? in[e.value_at] : r.number(e, 0);
        if (e.tag == kNewSubfileType && (v & 1) != 0) reduced = true;
        if (e.tag == kSubfileType && v == 2) reduced = true;
    }
    return reduced;
}

// The offset of the IFD after the one at off.
std::size_t next_ifd(const TiffReader& r, std::size_t off) { return r.u32(off + 2 + 12 * r.ifd_entries(off)); }

}  // namespace

void strip_tiff(ByteView in, const StripOptions& options, StripResult& out) {
    out.clear();
    if (in.size() < 8) throw FormatError("truncated TIFF: no header");
    const bool ii = in[0] == 'I' && in[1] == 'I';
    const bool mm = in[0] == 'M' && in[1] == 'M';
    if (!ii && !mm) throw FormatError("not a TIFF file");
    const TiffReader r(in);
    if (r.u16(2) == 43) throw FormatError("BigTIFF (64-bit offsets) is not rewritten");
    if (r.u16(2) != 42) throw FormatError("not a TIFF file");
    out.bytes.reserve(in.size());
    TiffWriter w(out.bytes, r.little());
    w.bytes(in.first(2));
    w.u16(42);
    std::size_t link = w.offset();
    w.u32(0);
    Budget budget(in.size());
    std::set<std::size_t> seen;
    std::size_t next = r.u32(4), page = 0, reduced = 0;
    while (next != 0) {
        if (!seen.insert(next).second) throw FormatError("TIFF: the IFD chain loops");
        if (is_reduced_page(r, in, next)) {
            ++reduced;
            budget.charge(2 + 12 * r.ifd_entries(next) + 4);  // its table was read: charged like a kept page's
            next = next_ifd(r, next);
            continue;
        }
        next = strip_page(r, in, next, page++, options, w, link, out, budget);
        link = out.bytes.size();
        w.u32(0);
    }
    if (seen.empty()) throw FormatError("TIFF: no image");
    if (page == 0) {
        throw FormatError("TIFF: only reduced-resolution pages (a raw file such as NEF or PEF, whose image lives in "
                          "SubIFDs, or thumbnails alone) is not rewritten");
    }
    if (reduced != 0) out.removed.push_back(std::to_string(reduced) + " reduced-resolution page(s) (thumbnails)");
}

}  // namespace veil::exif_strip
