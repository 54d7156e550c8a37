#include "heif_strip.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "bmff_movie_boxes.hpp"
#include "bmff_names.hpp"
#include "byte_order.hpp"

namespace veil::exif_strip {
namespace {

using bmff::Box;
using bmff::Reader;

constexpr std::size_t max_extents = 1 << 20;  // over all items; bounds work on hostile tables
constexpr int max_reference_rounds = 8;         // thumbnail -> its alpha -> ... chains are short

struct Extent final {
    std::uint64_t offset = 0, length = 0;
};

struct Location final {
    std::uint32_t id = 0;
    unsigned method = 0;  // 0 file offset, 1 idat offset, 2 item offset
    unsigned data_reference = 0;
    std::vector<Extent> extents;
    std::size_t begin = 0, end = 0;  // the entry's bytes in the input
};

struct Reference final {
    std::string_view type;
    std::uint32_t from = 0;
    std::vector<std::uint32_t> to;
    Box box;
};

struct ItemInfo final {
    std::uint32_t id = 0;
    std::string_view type, content_type;
    Box box;
};

// The parsed item tables of one picture 'meta' box.
struct Tables final {
    std::uint32_t primary = 0;
    std::vector<ItemInfo> items;
    std::vector<Location> locations;
    std::vector<Reference> references;
    unsigned iloc_version = 0, iref_id_bytes = 2;
    std::size_t idat_size = 0;  // payload of the idat box (construction method 1), 0 if none
};

std::string str(std::string_view s) { return std::string(s); }

std::vector<ItemInfo> parse_iinf(ByteView in, const Box& iinf) {
    const auto fb = bmff::parse_full_box(in, iinf);
    Reader r(in, fb.body_offset, iinf.end(), "iinf");
    r.skip(fb.version == 0 ? 2 : 4);  // entry count: the boxes themselves are what counts
    std::vector<ItemInfo> items;
    bmff::for_each_box(in, r.pos(), iinf.end(), "iinf", [&](const Box& b) {
        if (b.type != "infe") return;
        const auto e = bmff::parse_full_box(in, b);
        Reader f(in, e.body_offset, b.end(), "infe");
        ItemInfo item;
        item.box = b;
        item.id = static_cast<std::uint32_t>(f.read(e.version == 3 ? 4 : 2));
        f.skip(2);  // protection index
        if (e.version >= 2) {
            f.skip(4);
            item.type = std::string_view(reinterpret_cast<const char*>(in.data() + f.pos() - 4), 4);
            f.read_cstring();  // item name
            if (item.type == "mime") item.content_type = f.read_cstring();
        } else {
            // Versions 0 and 1 describe an item by name and MIME type only (no item type): an
            // XMP packet, say. No image is stored that way, so such items count as 'mime' ones.
            item.type = "mime";
            f.read_cstring();  // item name
            item.content_type = f.read_cstring();
        }
        items.push_back(item);
    });
    return items;
}

std::vector<Location> parse_iloc(ByteView in, const Box& iloc, unsigned& version) {
    const auto fb = bmff::parse_full_box(in, iloc);
    version = fb.version;
    if (version > 2) throw FormatError("HEIF: unknown iloc version " + std::to_string(version));
    Reader r(in, fb.body_offset, iloc.end(), "iloc");
    const auto sizes = static_cast<unsigned>(r.read(2));
    const std::size_t offset_size = sizes >> 12, length_size = (sizes >> 8) & 15, base_size = (sizes >> 4) & 15;
    const std::size_t index_size = version >= 1 ? sizes & 15 : 0;
    for (const std::size_t s : {offset_size, length_size, base_size, index_size}) {
        if (s != 0 && s != 4 && s != 8) throw FormatError("HEIF: bad iloc field size " + std::to_string(s));
    }
    const std::uint64_t count = r.read(version < 2 ? 2 : 4);
    std::vector<Location> locations;
    std::size_t extents = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        Location l;
        l.begin = r.pos();
        l.id = static_cast<std::uint32_t>(r.read(version < 2 ? 2 : 4));
        if (version >= 1) l.method = static_cast<unsigned>(r.read(2) & 15);
        if (l.method > 2) throw FormatError("HEIF: unknown iloc construction method " + std::to_string(l.method));
        l.data_reference = static_cast<unsigned>(r.read(2));
        const std::uint64_t base = r.read(base_size);
        const std::uint64_t n = r.read(2);
        extents += n;
        if (extents > max_extents) throw FormatError("HEIF: too many item extents");
        for (std::uint64_t k = 0; k < n; ++k) {
            r.skip(index_size);
            const std::uint64_t off = r.read(offset_size);
            const std::uint64_t len = r.read(length_size);
            if (off > UINT64_MAX - base) throw FormatError("HEIF: item offset overflows");
            l.extents.push_back({base + off, len});
        }
        l.end = r.pos();
        locations.push_back(std::move(l));
    }
    return locations;
}

std::vector<Reference> parse_iref(ByteView in, const Box& iref, unsigned& id_bytes) {
    const auto fb = bmff::parse_full_box(in, iref);
    id_bytes = fb.version == 0 ? 2 : 4;
    std::vector<Reference> refs;
    bmff::for_each_box(in, fb.body_offset, iref.end(), "iref", [&](const Box& b) {
        Reader r(in, b.payload_offset(), b.end(), "iref entry");
        Reference ref{b.type, static_cast<std::uint32_t>(r.read(id_bytes)), {}, b};
        const auto n = r.read(2);
        for (std::uint64_t i = 0; i < n; ++i) ref.to.push_back(static_cast<std::uint32_t>(r.read(id_bytes)));
        refs.push_back(std::move(ref));
    });
    return refs;
}

Tables parse_tables(ByteView in, const Box& meta, std::size_t children) {
    Tables t;
    bool has_iinf = false, has_iloc = false, has_pitm = false, has_idat = false;
    bmff::for_each_box(in, children, meta.end(), "meta", [&](const Box& b) {
        if (b.type == "iinf") {
            if (has_iinf) throw FormatError("HEIF: two iinf boxes");
            has_iinf = true;
            t.items = parse_iinf(in, b);
        } else if (b.type == "iloc") {
            if (has_iloc) throw FormatError("HEIF: two iloc boxes");
            has_iloc = true;
            t.locations = parse_iloc(in, b, t.iloc_version);
        } else if (b.type == "iref") {
            t.references = parse_iref(in, b, t.iref_id_bytes);
        } else if (b.type == "idat") {
            if (has_idat) throw FormatError("HEIF: two idat boxes");
            has_idat = true;
            t.idat_size = b.payload_size();
        } else if (b.type == "pitm") {
            const auto fb = bmff::parse_full_box(in, b);
            Reader r(in, fb.body_offset, b.end(), "pitm");
            t.primary = static_cast<std::uint32_t>(r.read(fb.version == 0 ? 2 : 4));
            has_pitm = true;
        }
    });
    if (!has_iinf || !has_iloc || !has_pitm) throw FormatError("HEIF: meta box without iinf, iloc or pitm");
    return t;
}

bool is_metadata_item(const ItemInfo& item) { return item.type == "Exif" || item.type == "mime" || item.type == "uri "; }

// The items to remove: metadata items, thumbnails, and items that serve only removed items
// (an alpha plane or Exif block of a thumbnail; the tiles of a thumbnail grid).
std::set<std::uint32_t> items_to_remove(const Tables& t) {
    std::set<std::uint32_t> gone;
    for (const auto& item : t.items) {
        if (is_metadata_item(item)) gone.insert(item.id);
    }
    for (const auto& ref : t.references) {
        if (ref.type == "thmb") gone.insert(ref.from);
    }
    for (int round = 0;; ++round) {
        if (round == max_reference_rounds) throw FormatError("HEIF: item references nested too deeply");
        std::set<std::uint32_t> more;
        std::map<std::uint32_t, bool> tile_kept;  // tile -> used by a kept derived image
        for (const auto& ref : t.references) {
            const bool all_gone = std::all_of(ref.to.begin(), ref.to.end(), [&](std::uint32_t id) { return gone.count(id) == 1; });
            if ((ref.type == "auxl" || ref.type == "cdsc" || ref.type == "prem") && all_gone && !ref.to.empty()) more.insert(ref.from);
            if (ref.type == "dimg") {
                for (const auto id : ref.to) tile_kept[id] = tile_kept[id] || gone.count(ref.from) == 0;
            }
        }
        for (const auto& [id, kept] : tile_kept) {
            if (!kept) more.insert(id);
        }
        const std::size_t before = gone.size();
        gone.insert(more.begin(), more.end());
        if (gone.size() == before) break;
    }
    if (gone.count(t.primary) == 1) throw FormatError("HEIF: the primary item is a thumbnail or metadata");
    return gone;
}

bool overlaps(const Extent& a, std::uint64_t begin, std::uint64_t end) { return a.offset < end && begin < a.offset + a.length; }

// Item data in idat (construction method 1) must lie inside it, whether the item is kept or
// removed (an extent past idat would be read, or zeroed, in the boxes after it). A removed one
// must have a length (an empty extent, "to the end", is refused as in mdat), and is charged
// like data in mdat (a million empty extents must not each zero the rest of a large idat).
// A kept one of length 0 runs to the end of idat. Returns the extent with its real length.
Extent check_idat_extent(const Extent& e, bool is_gone, std::size_t idat_size, bmff::Zeroer& zeroer) {
    if (e.offset > idat_size || e.length > idat_size - e.offset) throw FormatError("truncated HEIF: item data past the end of idat");
    if (!is_gone) return {e.offset, e.length == 0 ? idat_size - e.offset : e.length};
    if (e.length == 0) throw FormatError("HEIF: a metadata item without a length");
    zeroer.charge(e.length);
    return e;
}

// Refuses a removed extent sharing bytes with a kept one (zeroing it would damage the image).
// Sorted by start, an extent overlaps one of the other set iff it starts before the furthest
// end reached so far by that set (linear after the sort, for hostile tables).
void refuse_shared_bytes(const std::vector<Extent>& kept, const std::vector<Extent>& removed, std::string_view where) {
    std::vector<std::pair<Extent, bool>> all;
    for (const auto& k : kept) all.emplace_back(k, false);
    for (const auto& r : removed) all.emplace_back(r, true);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
    std::uint64_t kept_end = 0, removed_end = 0;
    for (const auto& [e, is_removed] : all) {
        if (e.length == 0) continue;
        if (e.offset < (is_removed ? kept_end : removed_end))
            throw FormatError("HEIF: a metadata item shares bytes with an image" + std::string(where));
        std::uint64_t& end = is_removed ? removed_end : kept_end;
        end = std::max(end, e.offset + e.length);
    }
}

// Checks every extent: file-offset ones inside the file, outside the meta box, idat ones
// inside idat, and no removed one sharing bytes with a kept one in the file or in idat;
// removed ones charged to the zeroer's bounded work.
void check_extents(const Tables& t, const std::set<std::uint32_t>& gone, std::size_t file_size, const Box& meta,
                   bmff::Zeroer& zeroer) {
    std::vector<Extent> kept, removed, idat_kept, idat_removed;
    for (const auto& l : t.locations) {
        const bool is_gone = gone.count(l.id) == 1;
        // Method 2: the bytes are another item's, which cannot be zeroed without touching it.
        if (l.method == 2 && is_gone) throw FormatError("HEIF: a metadata item made of another item's data (iloc construction method 2)");
        if (l.method == 1) {
            for (const auto& e : l.extents)
                (is_gone ? idat_removed : idat_kept).push_back(check_idat_extent(e, is_gone, t.idat_size, zeroer));
        }
        if (l.method != 0) continue;
        if (l.data_reference != 0) throw FormatError("HEIF: item data in another file");
        for (const auto& e : l.extents) {
            if (e.offset > file_size || e.length > file_size - e.offset) throw FormatError("truncated HEIF: item data past the end of the file");
            if (e.length == 0 && is_gone) throw FormatError("HEIF: a metadata item without a length");
            if (is_gone) zeroer.check(e.offset, e.length);
            const Extent bounded{e.offset, e.length == 0 ? file_size - e.offset : e.length};
            if (overlaps(bounded, meta.offset, meta.end())) throw FormatError("HEIF: item data inside the meta box");
            (is_gone ? removed : kept).push_back(bounded);
        }
    }
    refuse_shared_bytes(kept, removed, "");
    refuse_shared_bytes(idat_kept, idat_removed, " in idat");
}

// Appends a box: 32-bit size, type, then what body() appends; the size is fixed afterwards.
template <typename F>
void append_box(Bytes& out, std::string_view type, F&& body) {
    const std::size_t start = out.size();
    bmff::append_be(out, 0, 4);
    out.insert(out.end(), type.begin(), type.end());
    body();
    detail::store_be32(&out[start], static_cast<std::uint32_t>(out.size() - start));
}

void append_range(Bytes& out, ByteView in, std::size_t begin, std::size_t end) {
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(begin), in.begin() + static_cast<std::ptrdiff_t>(end));
}

// One entry of a table (an item's info, location, or property associations).
struct Entry final {
    std::size_t begin = 0, end = 0;
    bool keep = true;
};

// A full box whose entries are filtered: version/flags and whatever precedes the count, the
// new count (count_bytes wide), the kept entries, then whatever followed them.
void append_filtered(Bytes& out, ByteView in, const Box& box, std::size_t count_at, std::size_t count_bytes,
                     const std::vector<Entry>& entries, std::size_t entries_end) {
    append_box(out, box.type, [&] {
        append_range(out, in, box.payload_offset(), count_at);
        const auto n = std::count_if(entries.begin(), entries.end(), [](const Entry& e) { return e.keep; });
        bmff::append_be(out, static_cast<std::uint64_t>(n), count_bytes);
        for (const auto& e : entries) {
            if (e.keep) append_range(out, in, e.begin, e.end);
        }
        append_range(out, in, entries_end, box.end());
    });
}

// Rewrites the tables of one picture meta box without the removed items.
class MetaWriter final {
public:
    MetaWriter(ByteView in, const Tables& t, const std::set<std::uint32_t>& gone, StripResult& result)
        : in_(in), t_(t), gone_(gone), result_(result) {}

    void append_meta(Bytes& out, const Box& meta) {
        const auto fb = bmff::parse_full_box(in_, meta);
        append_box(out, "meta", [&] {
            append_range(out, in_, meta.payload_offset(), fb.body_offset);
            bmff::for_each_box(in_, fb.body_offset, meta.end(), "meta", [&](const Box& b) { append_child(out, b); });
        });
    }

private:
    [[nodiscard]] bool is_gone(std::uint32_t id) const { return gone_.count(id) == 1; }

    // Only the boxes a decoder needs stay; any other (free, skip, uuid, xml, bxml, a vendor box)
    // is dropped, its space going to the zeroed free box after meta.
    void append_child(Bytes& out, const Box& b) {
        if (b.type == "hdlr") return append_hdlr(out, b);
        if (b.type == "iinf") return append_iinf(out, b);
        if (b.type == "iloc") return append_iloc(out, b);
        if (b.type == "iref") return append_iref(out, b);
        if (b.type == "iprp") return append_iprp(out, b);
        if (b.type == "idat") return append_idat(out, b);
        if (b.type == "dinf") {
            const std::size_t at = out.size();
            append_range(out, in_, b.offset, b.end());
            if (const auto n = bmff::clear_data_references(in_, b, out, at))
                result_.removed.push_back(std::to_string(n) + " data reference(s) of the meta box (dref)");
            return;
        }
        if (bmff::is_playback_child("meta", b.type)) return append_range(out, in_, b.offset, b.end());
        drop(b, "meta");
    }

    // A dropped box is reported unless it is free space holding nothing.
    void drop(const Box& b, const char* container) {
        const auto payload = in_.subspan(b.payload_offset(), b.payload_size());
        const bool empty_free = (b.type == "free" || b.type == "skip") && std::all_of(payload.begin(), payload.end(), [](std::uint8_t v) { return v == 0; });
        if (!empty_free) result_.removed.push_back(std::string(container) + " " + str(b.type) + " box (" + std::to_string(b.size) + " bytes)");
    }

    // The handler's name (after pre_defined, handler type and 12 reserved bytes) is free text a
    // writer may fill; no reader needs it: written empty.
    void append_hdlr(Bytes& out, const Box& b) {
        const auto fb = bmff::parse_full_box(in_, b);
        const std::size_t name_at = fb.body_offset + 20;
        if (name_at > b.end()) throw FormatError("truncated HEIF: hdlr");
        const auto name = in_.subspan(name_at, b.end() - name_at);
        if (std::all_of(name.begin(), name.end(), [](std::uint8_t v) { return v == 0; })) return append_range(out, in_, b.offset, b.end());
        append_box(out, "hdlr", [&] {
            append_range(out, in_, b.payload_offset(), name_at);
            out.push_back(0);
        });
        result_.removed.push_back("name of the meta handler (hdlr)");
    }

    // The kept items' infe boxes are copied with their names emptied (see append_infe).
    void append_iinf(Bytes& out, const Box& b) {
        const auto fb = bmff::parse_full_box(in_, b);
        const std::size_t count_bytes = fb.version == 0 ? 2 : 4;
        const auto items = parse_iinf(in_, b);  // the infe boxes, in order
        const auto kept = std::count_if(items.begin(), items.end(), [&](const ItemInfo& i) { return !is_gone(i.id); });
        auto item = items.begin();
        append_box(out, "iinf", [&] {
            append_range(out, in_, b.payload_offset(), fb.body_offset);
            bmff::append_be(out, static_cast<std::uint64_t>(kept), count_bytes);
            bmff::for_each_box(in_, fb.body_offset + count_bytes, b.end(), "iinf", [&](const Box& c) {
                if (c.type != "infe") return append_range(out, in_, c.offset, c.end());
                if (!is_gone(item->id)) {
                    append_infe(out, c, item->id);
                } else {
                    const std::string what = item->content_type == "application/rdf+xml" ? "XMP"
                                             : is_metadata_item(*item)                      ? str(item->type)
                                                                                            : "thumbnail " + str(item->type);
                    result_.removed.push_back(what + " item " + std::to_string(item->id));
                }
                ++item;
            });
        });
    }

    // A kept item's name (infe item_name, version 2 and 3) is whatever its writer chose, a file
    // name say, and no decoder needs it: written empty (the meta box gets shorter). Versions 0
    // and 1 describe only removed (mime) items.
    void append_infe(Bytes& out, const Box& c, std::uint32_t id) {
        const auto e = bmff::parse_full_box(in_, c);
        if (e.version < 2) return append_range(out, in_, c.offset, c.end());
        Reader f(in_, e.body_offset, c.end(), "infe");
        f.skip((e.version == 3 ? 4 : 2) + 2 + 4);  // id, protection index, item type
        const std::size_t name_at = f.pos();
        if (f.read_cstring().empty()) return append_range(out, in_, c.offset, c.end());
        append_box(out, "infe", [&] {
            append_range(out, in_, c.payload_offset(), name_at);
            out.push_back(0);
            append_range(out, in_, f.pos(), c.end());
        });
        result_.removed.push_back("name of item " + std::to_string(id));
    }

    void append_iloc(Bytes& out, const Box& b) {
        const auto fb = bmff::parse_full_box(in_, b);
        std::vector<Entry> entries;
        std::size_t entries_end = fb.body_offset + 2 + (t_.iloc_version < 2 ? 2 : 4);
        for (const auto& l : t_.locations) {
            entries.push_back({l.begin, l.end, !is_gone(l.id)});
            entries_end = l.end;
        }
        append_filtered(out, in_, b, fb.body_offset + 2, t_.iloc_version < 2 ? 2 : 4, entries, entries_end);
    }

    void append_iref(Bytes& out, const Box& b) {
        const auto fb = bmff::parse_full_box(in_, b);
        append_box(out, "iref", [&] {
            append_range(out, in_, b.payload_offset(), fb.body_offset);
            for (const auto& ref : t_.references) {
                if (is_gone(ref.from)) continue;
                std::vector<std::uint32_t> to;
                std::copy_if(ref.to.begin(), ref.to.end(), std::back_inserter(to), [&](std::uint32_t id) { return !is_gone(id); });
                if (to.empty() && !ref.to.empty()) continue;
                if (to.size() == ref.to.size()) {
                    append_range(out, in_, ref.box.offset, ref.box.end());
                    continue;
                }
                append_box(out, ref.type, [&] {
                    bmff::append_be(out, ref.from, t_.iref_id_bytes);
                    bmff::append_be(out, to.size(), 2);
                    for (const auto id : to) bmff::append_be(out, id, t_.iref_id_bytes);
                });
            }
        });
    }

    void append_iprp(Bytes& out, const Box& b) {
        append_box(out, "iprp", [&] {
            bmff::for_each_box(in_, b.payload_offset(), b.end(), "iprp", [&](const Box& c) {
                if (c.type == "ipma") return append_ipma(out, c);
                if (c.type == "ipco") return append_ipco(out, c);
                drop(c, "iprp");
            });
        });
    }

    // Properties that date or describe an item (creation and modification times, TAI clock
    // stamps, a user description) keep their place, as ipma refers to them by index, with
    // their content after version/flags zeroed (the epoch; empty strings). Unknown and uuid
    // properties keep their place too, with their whole payload zeroed.
    void append_ipco(Bytes& out, const Box& b) {
        append_box(out, "ipco", [&] {
            bmff::for_each_box(in_, b.payload_offset(), b.end(), "ipco", [&](const Box& c) {
                const std::size_t start = out.size();
                append_range(out, in_, c.offset, c.end());
                if (bmff::is_playback_child("ipco", c.type)) return zero_after_fields(out, start, c);
                const bool dating = c.type == "crtt" || c.type == "mdft" || c.type == "udes" || c.type == "itai";
                const std::size_t keep = c.header_size + (dating ? std::min<std::size_t>(4, c.payload_size()) : 0);
                const auto content = out.begin() + static_cast<std::ptrdiff_t>(start + keep);
                if (std::all_of(content, out.end(), [](std::uint8_t v) { return v == 0; })) return;
                std::fill(content, out.end(), 0);
                result_.removed.push_back("item property " + str(c.type));
            });
        });
    }

    // A kept fixed-layout property (ispe, irot, imir, pasp, clap, clli, mdcv) written at `start`
    // of out: bytes after its defined payload (no reader looks there) are zeroed.
    void zero_after_fields(Bytes& out, std::size_t start, const Box& c) {
        static constexpr std::array<std::pair<std::string_view, std::size_t>, 7> fixed{
            {{"ispe", 12}, {"irot", 1}, {"imir", 1}, {"pasp", 8}, {"clap", 32}, {"clli", 4}, {"mdcv", 24}}};
        const auto f = std::find_if(fixed.begin(), fixed.end(), [&](const auto& e) { return e.first == c.type; });
        if (f == fixed.end() || c.payload_size() <= f->second) return;
        const auto tail = out.begin() + static_cast<std::ptrdiff_t>(start + c.header_size + f->second);
        if (std::all_of(tail, out.end(), [](std::uint8_t v) { return v == 0; })) return;
        std::fill(tail, out.end(), 0);
        result_.removed.push_back("bytes after the fields of item property " + str(c.type));
    }

    void append_ipma(Bytes& out, const Box& b) {
        const auto fb = bmff::parse_full_box(in_, b);
        Reader r(in_, fb.body_offset, b.end(), "ipma");
        const auto count = r.read(4);
        std::vector<Entry> entries;
        for (std::uint64_t i = 0; i < count; ++i) {
            const std::size_t begin = r.pos();
            const auto id = static_cast<std::uint32_t>(r.read(fb.version < 1 ? 2 : 4));
            const auto n = r.read(1);
            r.skip(static_cast<std::size_t>(n) * ((fb.flags & 1) != 0 ? 2 : 1));
            entries.push_back({begin, r.pos(), !is_gone(id)});
        }
        append_filtered(out, in_, b, fb.body_offset, 4, entries, r.pos());
    }

    // idat is copied with the bytes of removed items (construction method 1) zeroed; their
    // extents were checked and charged by check_extents.
    void append_idat(Bytes& out, const Box& b) {
        const std::size_t start = out.size() + 8;  // payload, after the 32-bit header written below
        append_box(out, "idat", [&] { append_range(out, in_, b.payload_offset(), b.end()); });
        for (const auto& l : t_.locations) {
            if (l.method != 1 || !is_gone(l.id)) continue;
            for (const auto& e : l.extents) std::memset(&out[start + e.offset], 0, static_cast<std::size_t>(e.length));
        }
    }

    ByteView in_;
    const Tables& t_;
    const std::set<std::uint32_t>& gone_;
    StripResult& result_;
};

}  // namespace

bool is_picture_meta(ByteView in, const Box& meta) {
    const auto fb = bmff::parse_full_box(in, meta);
    bool picture = false;
    bmff::for_each_box(in, fb.body_offset, meta.end(), "meta", [&](const Box& b) {
        if (b.type == "hdlr" && b.payload_size() >= 12) picture = std::memcmp(&in[b.payload_offset() + 8], "pict", 4) == 0;
    });
    return picture;
}

void strip_heif_meta(ByteView in, const Box& meta, bmff::Zeroer& zeroer) {
    StripResult& out = zeroer.out();
    const auto fb = bmff::parse_full_box(in, meta);
    const Tables t = parse_tables(in, meta, fb.body_offset);
    const auto gone = items_to_remove(t);
    check_extents(t, gone, in.size(), meta, zeroer);
    // Rewritten even when no item goes: xml/bxml boxes and dating properties may be there.
    Bytes rewritten;
    rewritten.reserve(meta.size);
    MetaWriter(in, t, gone, out).append_meta(rewritten, meta);
    const std::size_t gap = meta.size - rewritten.size();
    if (rewritten.size() > meta.size || (gap > 0 && gap < 8)) throw FormatError("HEIF: meta box cannot be rewritten in place");
    std::memcpy(&out.bytes[meta.offset], rewritten.data(), rewritten.size());
    if (gap > 0) {
        std::uint8_t* free_box = &out.bytes[meta.offset + rewritten.size()];
        detail::store_be32(free_box, static_cast<std::uint32_t>(gap));
        std::memcpy(free_box + 4, "free", 4);
        std::memset(free_box + 8, 0, gap - 8);
    }
    for (const auto& l : t.locations) {
        if (l.method != 0 || gone.count(l.id) == 0) continue;
        for (const auto& e : l.extents) std::memset(&out.bytes[e.offset], 0, static_cast<std::size_t>(e.length));
    }
}

}  // namespace veil::exif_strip
