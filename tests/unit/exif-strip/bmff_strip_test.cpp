// ISO BMFF stripping on hand-built files: movie metadata boxes neutralised, times zeroed, HEIF
// metadata items and thumbnails removed from the item tables, and every malformed or
// truncated layout refused.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "bmff_strip.hpp"
#include "image_type.hpp"
#include "metadata_stripper.hpp"

using namespace veil::exif_strip;
using namespace std::string_literals;

namespace {

Bytes be(std::uint64_t v, std::size_t n) {
    Bytes b;
    for (std::size_t i = n; i-- > 0;) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes box(const std::string& type, const Bytes& payload) { return cat({be(8 + payload.size(), 4), text(type), payload}); }
Bytes full_box(const std::string& type, std::uint8_t version, const Bytes& payload) {
    return box(type, cat({be(version, 1), be(0, 3), payload}));
}

const Bytes ftyp_mp4 = box("ftyp", text("isommp41isom"));
const Bytes ftyp_heic = box("ftyp", text("heic\0\0\0\0mif1heic"s));

Bytes mvhd(std::uint8_t version) {  // creation/modification times set, then the rest zero
    const std::size_t t = version == 1 ? 8 : 4;
    return full_box("mvhd", version, cat({be(0x11223344, t), be(0x55667788, t), Bytes(version == 1 ? 88 : 80, 0)}));
}
Bytes zeroed_mvhd(std::uint8_t version) {
    return full_box("mvhd", version, Bytes((version == 1 ? 16 : 8) + (version == 1 ? 88 : 80), 0));
}
Bytes free_of(const Bytes& b) {  // what neutralising b must give
    Bytes f = cat({be(b.size(), 4), text("free"), Bytes(b.size() - 8, 0)});
    return f;
}

StripResult strip(const Bytes& in) {
    StripResult r;
    strip_bmff(in, StripOptions{}, r);
    return r;
}

// --- a small HEIF: item 1 the image (4 bytes in mdat), 2 Exif, 3 XMP, 4 a thumbnail ---
Bytes infe(std::uint16_t id, const std::string& type, const std::string& content_type = "") {
    // "v0": an infe of version 0 (name and content type, no item type).
    if (type == "v0") return full_box("infe", 0, cat({be(id, 2), be(0, 2), text("packet"), Bytes{0}, text(content_type), Bytes{0}}));
    // "hvc1:NAME": an item of type hvc1 named NAME.
    const std::string name = type.size() > 5 && type[4] == ':' ? type.substr(5) : "";
    Bytes p = cat({be(id, 2), be(0, 2), text(type.substr(0, 4)), text(name), Bytes{0}});
    if (type == "mime") p = cat({p, text(content_type), Bytes{0}});
    return full_box("infe", 2, p);
}

struct Item final {
    std::uint16_t id;
    std::string type, content_type;
    std::uint32_t offset, length;
};

// A HEIF whose iloc points at absolute offsets; offsets are patched once the meta size is known.
// `methods` (item id -> iloc construction method) makes the iloc version 1.
Bytes heif(const std::vector<Item>& items, const Bytes& iref, std::uint16_t primary, const Bytes& mdat_payload,
           std::uint32_t fixed_base = 0, const std::map<std::uint16_t, std::uint16_t>& methods = {}, const Bytes& extra_props = {}) {
    const auto build = [&](std::uint32_t base) {
        Bytes iinf_entries, iloc_entries, ipma_entries;
        for (const auto& i : items) {
            iinf_entries = cat({iinf_entries, infe(i.id, i.type, i.content_type)});
            const Bytes method = methods.empty() ? Bytes{} : be(methods.count(i.id) ? methods.at(i.id) : 0, 2);
            iloc_entries = cat({iloc_entries, be(i.id, 2), method, be(0, 2), be(1, 2), be(base + i.offset, 4), be(i.length, 4)});
            ipma_entries = cat({ipma_entries, be(i.id, 2), be(1, 1), be(0x81, 1)});
        }
        const Bytes meta = full_box("meta", 0, cat({
            full_box("hdlr", 0, cat({be(0, 4), text("pict"), Bytes(13, 0)})),
            full_box("pitm", 0, be(primary, 2)),
            full_box("iinf", 0, cat({be(items.size(), 2), iinf_entries})),
            full_box("iloc", methods.empty() ? 0 : 1, cat({be(0x4400, 2), be(items.size(), 2), iloc_entries})),
            iref,
            box("iprp", cat({box("ipco", cat({box("irot", Bytes{1}), extra_props})), full_box("ipma", 0, cat({be(items.size(), 4), ipma_entries}))})),
        }));
        return cat({ftyp_heic, meta, box("mdat", mdat_payload)});
    };
    if (fixed_base != 0) return build(fixed_base);
    const Bytes draft = build(0);
    const auto base = static_cast<std::uint32_t>(draft.size() - mdat_payload.size());
    return build(base);
}

Bytes iref_box(std::initializer_list<Bytes> refs) {
    Bytes p;
    for (const auto& r : refs) p = cat({p, r});
    return full_box("iref", 0, p);
}
Bytes ref(const std::string& type, std::uint16_t from, std::uint16_t to) { return box(type, cat({be(from, 2), be(1, 2), be(to, 2)})); }

const Bytes mdat4 = text("IMAGEXIF+EXIF-XMP-DATATHMB");  // image 0..5, exif 5..15, xmp 15..22, thumb 22..26
const std::vector<Item> items4 = {{1, "hvc1", "", 0, 5}, {2, "Exif", "", 5, 10}, {3, "mime", "application/rdf+xml", 15, 7}, {4, "hvc1", "", 22, 4}};
const Bytes iref4 = iref_box({ref("cdsc", 2, 1), ref("cdsc", 3, 1), ref("thmb", 4, 1)});

bool contains(const Bytes& hay, const std::string& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST_CASE("bmff - ftyp brands decide the type", "[attachments]") {
    CHECK(sniff_image_type(ftyp_mp4) == ImageType::mp4);
    CHECK(sniff_image_type(ftyp_heic) == ImageType::heif);
    CHECK(sniff_image_type(box("ftyp", text("mif1\0\0\0\0mif1avif"s))) == ImageType::avif);
    CHECK(sniff_image_type(box("ftyp", text("avis\0\0\0\0"s))) == ImageType::avif);
    CHECK(sniff_image_type(box("ftyp", text("qt  \0\0\0\0qt  "s))) == ImageType::mov);
    CHECK(sniff_image_type(box("ftyp", text("M4A \0\0\0\0isom"s))) == ImageType::m4a);
    CHECK(sniff_image_type(box("moov", {})) == ImageType::mov);
    CHECK(sniff_image_type(box("ftyp", text("crx \0\0\0\0"s))) == ImageType::other_media);
    CHECK(sniff_image_type(box("ftyp", text("XAVC\0\0\0\0XAVCmp42iso2"s))) == ImageType::mp4);  // Sony, Xperia
}

TEST_CASE("bmff - movie metadata boxes become free boxes of the same size, at every level", "[attachments]") {
    const Bytes udta = box("udta", box("\xA9xyz", text("+48.8584+002.2945/")));
    const Bytes meta = full_box("meta", 0, box("keys", text("com.apple.quicktime.location.ISO6709")));
    const Bytes xmp = box("uuid", cat({Bytes(16, 0xBE), text("<x:xmpmeta>Alice</x:xmpmeta>")}));
    const Bytes mdhd = full_box("mdhd", 0, cat({be(0x11223344, 4), be(0x55667788, 4), be(1000, 4), be(10, 4), be(0, 4)}));
    const Bytes mdhd0 = full_box("mdhd", 0, cat({be(0, 8), be(1000, 4), be(10, 4), be(0, 4)}));
    const Bytes stco = full_box("stco", 0, cat({be(1, 4), be(8, 4)}));
    const auto trak = [&](const Bytes& m, const Bytes& t) {
        return box("trak", cat({box("mdia", cat({m, box("minf", box("stbl", stco))})), t}));
    };
    const Bytes in = cat({ftyp_mp4, box("mdat", text("SAMPLES")), box("moov", cat({mvhd(1), trak(mdhd, udta), udta, meta, xmp})), xmp});
    const Bytes want = cat({ftyp_mp4, box("mdat", text("SAMPLES")),
                            box("moov", cat({zeroed_mvhd(1), trak(mdhd0, free_of(udta)), free_of(udta), free_of(meta), free_of(xmp)})),
                            free_of(xmp)});
    const auto r = strip(in);
    CHECK(r.bytes == want);
    CHECK(r.removed.size() == 5);
    CHECK(strip(r.bytes).bytes == r.bytes);  // strips to itself
}

TEST_CASE("bmff - 64-bit and to-the-end box sizes are followed", "[attachments]") {
    const Bytes moov = box("moov", cat({mvhd(0), box("udta", text("Alice"))}));
    const Bytes big_mdat = cat({be(1, 4), text("mdat"), be(16 + 4, 8), text("DATA")});
    const Bytes open_mdat = cat({be(0, 4), text("mdat"), text("DATA-TO-THE-END")});
    for (const auto& mdat : {big_mdat, open_mdat}) {
        const auto r = strip(cat({ftyp_mp4, moov, mdat}));
        CHECK(r.bytes == cat({ftyp_mp4, box("moov", cat({zeroed_mvhd(0), free_of(box("udta", text("Alice")))})), mdat}));
    }
}

TEST_CASE("bmff - malformed and truncated movies are refused", "[attachments]") {
    const Bytes stco_in_mdat = full_box("stco", 0, cat({be(1, 4), be(200, 4)}));
    const Bytes moov = box("moov", cat({mvhd(0), box("udta", text("Alice")), box("trak", box("mdia", box("minf", box("stbl", stco_in_mdat))))}));
    const Bytes good = cat({ftyp_mp4, moov, box("mdat", Bytes(100, 'x'))});
    REQUIRE_NOTHROW(strip(good));
    for (std::size_t n = 1; n < good.size(); ++n) {
        INFO("cut at " << n);
        CHECK_THROWS_AS(strip(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))), FormatError);
    }
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, be(4, 4), text("moov")})), Catch::Contains("smaller than its header"));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, box("mdat", {})})), Catch::Contains("no movie"));
    CHECK_THROWS_WITH(strip(box("abcd", {})), Catch::Contains("not an ISO BMFF"));
    // A chunk offset past the end: the file was cut after its moov.
    const Bytes stco = full_box("stco", 0, cat({be(1, 4), be(4096, 4)}));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, box("moov", box("trak", box("mdia", box("minf", box("stbl", stco)))))})),
                      Catch::Contains("past the end"));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, box("moov", full_box("mvhd", 2, Bytes(100, 0)))})), Catch::Contains("version"));
}

TEST_CASE("bmff - nesting depth and box counts are bounded", "[attachments]") {
    Bytes nested = box("moov", {});
    for (int i = 0; i < 40; ++i) nested = box(i % 2 == 0 ? "trak" : "mdia", nested);
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, box("moov", nested)})), Catch::Contains("nested too deeply"));
    Bytes many;
    for (int i = 0; i < 100001; ++i) many = cat({many, box("free", {})});
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, box("moov", many)})), Catch::Contains("too many boxes"));
}

TEST_CASE("bmff - heif Exif, XMP and thumbnail items leave every table; the image stays", "[attachments]") {
    const Bytes in = heif(items4, iref4, 1, mdat4);
    REQUIRE(sniff_image_type(in) == ImageType::heif);
    const auto r = strip(in);
    REQUIRE(r.bytes.size() == in.size());  // nothing moved
    CHECK(r.removed == std::vector<std::string>{"Exif item 2", "XMP item 3", "thumbnail hvc1 item 4"});
    // The same file built with the image item alone, padded with a free box after meta.
    const auto base = static_cast<std::uint32_t>(in.size() - mdat4.size());
    const Bytes alone = heif({items4[0]}, iref_box({}), 1, mdat4, base);
    const std::size_t meta_end = alone.size() - mdat4.size() - 8;
    Bytes want(alone.begin(), alone.begin() + static_cast<std::ptrdiff_t>(meta_end));
    const std::size_t gap = in.size() - alone.size();
    want = cat({want, be(gap, 4), text("free"), Bytes(gap - 8, 0), box("mdat", cat({text("IMAGE"), Bytes(mdat4.size() - 5, 0)}))});  // removed items' bytes zeroed
    CHECK(r.bytes == want);
    CHECK_FALSE(contains(r.bytes, "EXIF"));
    CHECK_FALSE(contains(r.bytes, "Exif"));
    CHECK(strip(r.bytes).bytes == r.bytes);
}

TEST_CASE("bmff - heif refusals: primary thumbnail, shared bytes, data outside the file or in meta", "[attachments]") {
    CHECK_THROWS_WITH(strip(heif(items4, iref4, 4, mdat4)), Catch::Contains("primary item"));
    std::vector<Item> shared = items4;
    shared[1].offset = 3;  // the Exif item overlaps the image
    CHECK_THROWS_WITH(strip(heif(shared, iref4, 1, mdat4)), Catch::Contains("shares bytes"));
    std::vector<Item> outside = items4;
    outside[0].length = 4096;
    CHECK_THROWS_WITH(strip(heif(outside, iref4, 1, mdat4)), Catch::Contains("past the end"));
    const Bytes in = heif(items4, iref4, 1, mdat4);
    std::vector<Item> in_meta = items4;
    in_meta[0].offset = static_cast<std::uint32_t>(-static_cast<std::int64_t>(in.size() - mdat4.size()) + 40);
    CHECK_THROWS_WITH(strip(heif(in_meta, iref4, 1, mdat4)), Catch::Contains("inside the meta box"));
    std::vector<Item> on_ftyp = items4;  // zeroing it would wipe the file's header
    on_ftyp[1].offset = static_cast<std::uint32_t>(-static_cast<std::int64_t>(in.size() - mdat4.size()));
    CHECK_THROWS_WITH(strip(heif(on_ftyp, iref4, 1, mdat4)), Catch::Contains("outside mdat"));
    for (std::size_t n = 1; n < in.size(); ++n) {
        INFO("cut at " << n);
        CHECK_THROWS_AS(strip(Bytes(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n))), FormatError);
    }
}

TEST_CASE("bmff - the processor strips HEIF and movies by content, and honours the formats config", "[attachments]") {
    const Bytes movie = cat({ftyp_mp4, box("moov", cat({mvhd(0), box("udta", text("Alice"))})), box("mdat", text("x"))});
    Attachment a{movie, "application/octet-stream"};
    const auto report = MetadataStripper(StripperConfig{}).process(a);
    CHECK(report.outcome == Outcome::processed);
    CHECK(a.mime_type == "video/mp4");
    CHECK_FALSE(contains(a.bytes, "Alice"));

    StripperConfig no_movies;
    no_movies.mp4 = false;
    Attachment b{movie, "video/mp4"};  // a format turned off is refused like other media (no silent leaks)
    CHECK_THROWS_WITH(MetadataStripper(no_movies).process(b), Catch::Contains("disabled in config"));
    b.keep_metadata = true;  // ... unless the sender asks for it to go as it is
    CHECK(MetadataStripper(no_movies).process(b).outcome == Outcome::passed_through);
    CHECK(b.bytes == movie);

    Attachment cut{Bytes(movie.begin(), movie.end() - 3), "video/mp4"};
    CHECK_THROWS_WITH(MetadataStripper(StripperConfig{}).process(cut), Catch::Contains("refused rather than sent with its metadata"));
    Attachment declared{heif(items4, iref4, 1, mdat4), "image/jpeg"};
    CHECK_THAT(MetadataStripper(StripperConfig{}).process(declared).detail, Catch::Contains("corrected"));  // type from content
    CHECK(declared.mime_type == "image/heic");
}

// Review of issue 22: a movie whose first box is not ftyp/moov/mdat/wide must not pass as
// unrecognised content. free/skip first is stripped; pnot/udta/uuid first is refused.
TEST_CASE("bmff - a movie opening with free, skip, pnot, udta or uuid never leaves with its metadata", "[attachments]") {
    const Bytes moov = box("moov", cat({mvhd(0), box("udta", text("Alice"))}));
    for (const char* first : {"free", "skip"}) {
        INFO(first);
        const Bytes movie = cat({box(first, Bytes(8, 0)), moov, box("mdat", text("x"))});
        CHECK(sniff_image_type(movie) == ImageType::mov);
        Attachment a{movie, "application/octet-stream"};
        try {
            CHECK(MetadataStripper(StripperConfig{}).process(a).outcome == Outcome::processed);
            CHECK_FALSE(contains(a.bytes, "Alice"));
        } catch (const ProcessError& e) {
            CHECK_THAT(e.what(), Catch::Contains("refused"));
        }
    }
    for (const char* first : {"pnot", "udta", "uuid"}) {
        INFO(first);
        const Bytes movie = cat({box(first, Bytes(16, 0)), moov, box("mdat", text("x"))});
        Attachment a{movie, ""};
        CHECK_THROWS_WITH(MetadataStripper(StripperConfig{}).process(a), Catch::Contains("--keep-metadata"));
    }
}

TEST_CASE("bmff - the samples of a timed metadata track are zeroed, other tracks untouched", "[attachments]") {
    // mdat right after ftyp: the video chunk at 28 ("VIDEO"), the metadata chunk at 33 (two samples).
    const Bytes mdat = box("mdat", text("VIDEO+48.8584+002.2945/"));
    const auto hdlr = [](const std::string& handler) { return full_box("hdlr", 0, cat({be(0, 4), text(handler), Bytes(13, 0)})); };
    const auto trak = [&](const std::string& handler, const Bytes& stsz, std::uint32_t chunk_at, std::uint32_t per_chunk) {
        const Bytes stsc = full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(per_chunk, 4), be(1, 4)}));
        const Bytes stco = full_box("stco", 0, cat({be(1, 4), be(chunk_at, 4)}));
        return box("trak", box("mdia", cat({hdlr(handler), box("minf", box("stbl", cat({stsz, stsc, stco})))})));
    };
    const Bytes video = trak("vide", full_box("stsz", 0, cat({be(5, 4), be(1, 4)})), 28, 1);
    const Bytes gps = trak("meta", full_box("stsz", 0, cat({be(0, 4), be(2, 4), be(9, 4), be(9, 4)})), 33, 2);
    const Bytes in = cat({ftyp_mp4, mdat, box("moov", cat({video, gps}))});
    REQUIRE(in[28] == 'V');
    const auto r = strip(in);
    Bytes want = in;
    std::fill(want.begin() + 33, want.begin() + 51, 0);
    CHECK(r.bytes == want);
    CHECK(r.removed == std::vector<std::string>{"timed metadata track: 2 samples (18 bytes zeroed)"});
    // A sample past the end of the file is refused, not skipped.
    const Bytes far = trak("meta", full_box("stsz", 0, cat({be(0, 4), be(1, 4), be(4096, 4)})), 33, 1);
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, mdat, box("moov", far)})), Catch::Contains("past the end"));
    const Bytes on_header = trak("meta", full_box("stsz", 0, cat({be(0, 4), be(1, 4), be(8, 4)})), 0, 1);
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, mdat, box("moov", on_header)})), Catch::Contains("outside mdat"));
    const Bytes no_table = box("trak", box("mdia", hdlr("meta")));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, mdat, box("moov", no_table)})), Catch::Contains("cannot remove its samples"));
}

namespace {
// A fragmented movie (empty moov, then moof/mdat): track 1 video, track 2 timed metadata (GPS).
Bytes hdlr_box(const std::string& handler) { return full_box("hdlr", 0, cat({be(0, 4), text(handler), Bytes(13, 0)})); }
Bytes empty_trak(std::uint32_t id, const std::string& handler) {
    const Bytes stbl = box("stbl", cat({full_box("stsz", 0, be(0, 8)), full_box("stsc", 0, be(0, 4)), full_box("stco", 0, be(0, 4))}));
    return box("trak", cat({full_box("tkhd", 0, cat({be(0, 8), be(id, 4), Bytes(68, 0)})),
                            box("mdia", cat({hdlr_box(handler), box("minf", stbl)}))}));
}
Bytes trex(std::uint32_t id, std::uint32_t default_size) { return full_box("trex", 0, cat({be(id, 4), be(1, 4), be(0, 4), be(default_size, 4), be(0, 4)})); }
const Bytes fragmented_moov =
    box("moov", cat({mvhd(0), empty_trak(1, "vide"), empty_trak(2, "meta"), box("mvex", cat({trex(1, 5), trex(2, 0)}))}));
Bytes tfhd(std::uint32_t id, std::uint32_t flags, const Bytes& fields = {}) {
    return box("tfhd", cat({be(0, 1), be(flags, 3), be(id, 4), fields}));
}
Bytes trun(std::uint32_t flags, std::uint32_t count, const Bytes& fields) { return box("trun", cat({be(0, 1), be(flags, 3), be(count, 4), fields})); }
}  // namespace

TEST_CASE("bmff - fragments: metadata boxes in moof/traf/mfra go, metadata samples in trun are zeroed", "[attachments]") {
    const Bytes payload = text("VIDEO+48.8584+002.2945/");  // video 0..5, two GPS samples 5..23
    const Bytes udta = box("udta", box("\xA9xyz", text("+48.8584+002.2945/")));
    const Bytes xmp = box("uuid", cat({Bytes(16, 0xBE), text("<x:xmpmeta>Alice</x:xmpmeta>")}));
    const auto moof_with = [&](std::uint32_t moof_size) {
        const std::uint32_t data = moof_size + 8;  // the mdat payload, relative to the moof
        return box("moof", cat({full_box("mfhd", 0, be(1, 4)),
                                box("traf", cat({tfhd(1, 0x20000), trun(0x1, 1, be(data, 4)), udta})),
                                box("traf", cat({tfhd(2, 0x20000), trun(0x201, 2, cat({be(data + 5, 4), be(9, 4), be(9, 4)}))})), xmp}));
    };
    const std::size_t moof_size = moof_with(0).size();
    const Bytes moof = moof_with(static_cast<std::uint32_t>(moof_size));
    const Bytes mfra = box("mfra", cat({udta, full_box("mfro", 0, be(0, 4))}));
    const Bytes head = cat({ftyp_mp4, fragmented_moov});
    const Bytes in = cat({head, moof, box("mdat", payload), mfra});
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "+48.8584"));
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK(contains(r.bytes, "VIDEO"));
    const std::size_t gps_at = head.size() + moof.size() + 8 + 5;
    CHECK(std::all_of(r.bytes.begin() + static_cast<std::ptrdiff_t>(gps_at), r.bytes.begin() + static_cast<std::ptrdiff_t>(gps_at + 18),
                      [](std::uint8_t b) { return b == 0; }));
    CHECK(r.bytes.size() == in.size());
    CHECK(strip(r.bytes).bytes == r.bytes);

    // No explicit offsets: the metadata run follows the video run (implicit base), sized by trex.
    const auto implicit_with = [&](std::uint32_t moof_size2) {
        return box("moof", cat({box("traf", cat({tfhd(1, 0x20000), trun(0x1, 1, be(moof_size2 + 8, 4))})),
                                box("traf", cat({tfhd(2, 0x10, be(18, 4)), trun(0, 1, {})}))}));
    };
    const Bytes implicit = implicit_with(static_cast<std::uint32_t>(implicit_with(0).size()));
    const auto r2 = strip(cat({head, implicit, box("mdat", payload)}));
    CHECK_FALSE(contains(r2.bytes, "+48.8584"));
    CHECK(contains(r2.bytes, "VIDEO"));
}

TEST_CASE("bmff - fragments: refused without their movie box, segments, and repeated metadata runs", "[attachments]") {
    const Bytes moof = box("moof", box("traf", cat({tfhd(2, 0x20000), trun(0x201, 1, cat({be(16, 4), be(4, 4)}))})));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, moof, box("mdat", text("GPS!")), fragmented_moov})), Catch::Contains("without a movie box"));
    const Bytes segment = cat({box("styp", text("msdh\0\0\0\0msdhmsix"s)), moof, box("mdat", text("GPS!"))});
    CHECK(sniff_image_type(segment) == ImageType::mp4);
    CHECK_THROWS_WITH(strip(segment), Catch::Contains("media segment"));
    // Two runs over the same 1000 bytes: more to zero than the file holds (bounded work).
    const auto twice_with = [&](std::uint32_t size) {
        const Bytes run = trun(0x1, 1, be(size + 8, 4));
        return box("moof", box("traf", cat({tfhd(2, 0x20000 | 0x10, be(1000, 4)), run, run})));
    };
    const Bytes twice = twice_with(static_cast<std::uint32_t>(twice_with(0).size()));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, fragmented_moov, twice, box("mdat", Bytes(1000, 'g'))})), Catch::Contains("overlap"));
    // A metadata fragment whose sample size is given nowhere cannot be removed.
    const Bytes sizeless = box("moof", box("traf", cat({tfhd(2, 0x20000), trun(0x1, 1, be(16, 4))})));
    CHECK_THROWS_WITH(strip(cat({ftyp_mp4, fragmented_moov, sizeless, box("mdat", text("GPS!"))})), Catch::Contains("without sample sizes"));
}

TEST_CASE("bmff - heif: an infe v0 item (XMP by content type) goes; construction method 2 metadata is refused", "[attachments]") {
    const std::vector<Item> items = {{1, "hvc1", "", 0, 5}, {3, "v0", "application/rdf+xml", 15, 7}};
    const Bytes in = heif(items, iref_box({ref("cdsc", 3, 1)}), 1, mdat4);
    REQUIRE(contains(in, "MP-DATA"));
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "MP-DATA"));
    CHECK(contains(r.bytes, "IMAGE"));
    CHECK(r.bytes.size() == in.size());
    // The Exif item's bytes taken from another item (method 2): cannot be zeroed alone.
    CHECK_THROWS_WITH(strip(heif(items4, iref4, 1, mdat4, 0, {{2, 2}})), Catch::Contains("construction method 2"));
    CHECK_THROWS_WITH(strip(heif(items4, iref4, 1, mdat4, 0, {{1, 3}})), Catch::Contains("unknown iloc construction method"));
    CHECK_NOTHROW(strip(heif(items4, iref4, 1, mdat4, 0, {{1, 0}})));  // version 1, file offsets: fine
}

TEST_CASE("bmff - heif: removed items repeating the same bytes are refused (bounded work)", "[attachments]") {
    const Bytes payload(1000, 'm');
    std::vector<Item> items = {{1, "hvc1", "", 0, 5}};
    for (std::uint16_t id = 2; id < 6; ++id) items.push_back({id, "Exif", "", 10, 990});
    const Bytes in = heif(items, iref_box({ref("cdsc", 2, 1)}), 1, payload);
    REQUIRE(in.size() < 4 * 990);
    CHECK_THROWS_WITH(strip(in), Catch::Contains("overlap"));
    items.resize(2);  // one such item: fine
    CHECK_NOTHROW(strip(heif(items, iref_box({ref("cdsc", 2, 1)}), 1, payload)));
}

namespace {
// A HEIF whose Exif item (2) lives in idat (iloc construction method 1) as `extents` extents of
// (offset, length) each; the image item (1) is 5 bytes in mdat.
Bytes heif_idat(const Bytes& idat_payload, std::size_t extents, std::uint32_t offset, std::uint32_t length) {
    const auto build = [&](std::uint32_t mdat_at) {
        Bytes exif_extents;
        for (std::size_t i = 0; i < extents; ++i) exif_extents = cat({exif_extents, be(offset, 4), be(length, 4)});  // small: fine
        const Bytes iloc = full_box("iloc", 1, cat({be(0x4400, 2), be(2, 2),
                                                    be(1, 2), be(0, 2), be(0, 2), be(1, 2), be(mdat_at, 4), be(5, 4),
                                                    be(2, 2), be(1, 2), be(0, 2), be(extents, 2), exif_extents}));
        const Bytes meta = full_box("meta", 0, cat({
            full_box("hdlr", 0, cat({be(0, 4), text("pict"), Bytes(13, 0)})),
            full_box("pitm", 0, be(1, 2)),
            full_box("iinf", 0, cat({be(2, 2), infe(1, "hvc1"), infe(2, "Exif")})),
            iloc,
            iref_box({ref("cdsc", 2, 1)}),
            box("idat", idat_payload),
        }));
        return cat({ftyp_heic, meta, box("mdat", text("IMAGE"))});
    };
    return build(static_cast<std::uint32_t>(build(0).size() - 5));
}
}  // namespace

// Review of issue 22 (HIGH): removed items in idat escaped the work bound (a million empty
// extents, each zeroing the rest of a 10 MiB idat).
TEST_CASE("bmff - heif: removed items in idat are zeroed, and charged to the bounded work", "[attachments]") {
    const Bytes exif = text("Exif\0\0GPS+48.8584+002.2945"s);
    const auto r = strip(heif_idat(exif, 1, 0, static_cast<std::uint32_t>(exif.size())));
    CHECK_FALSE(contains(r.bytes, "GPS+48"));
    CHECK(contains(r.bytes, "IMAGE"));
    CHECK(r.removed == std::vector<std::string>{"Exif item 2"});
    // 4000 extents each covering all 1000 bytes of idat: 4 MB to zero from a 33 kB file.
    const Bytes many = heif_idat(Bytes(1000, 'x'), 4000, 0, 1000);
    REQUIRE(many.size() < 40000);
    CHECK_THROWS_WITH(strip(many), Catch::Contains("overlap"));
    // Empty extents ("to the end of idat") are refused, as they are in mdat.
    CHECK_THROWS_WITH(strip(heif_idat(Bytes(1000, 'x'), 3, 0, 0)), Catch::Contains("without a length"));
    CHECK_THROWS_WITH(strip(heif_idat(Bytes(1000, 'x'), 1, 900, 200)), Catch::Contains("past the end of idat"));
}

// Review of issue 22 (HIGH): each zeroing used to scan every mdat, and each sample was one
// zeroing: 100k empty mdats x 9M samples took minutes. Now mdats are found by binary search and
// a chunk's samples are zeroed at once; the steps are counted, not timed.
TEST_CASE("bmff - a metadata track over many mdats and samples is stripped in bounded work", "[attachments]") {
    constexpr std::uint32_t mdats = 20000, samples = 200000;
    Bytes empty_mdats;
    for (std::uint32_t i = 0; i < mdats; ++i) empty_mdats.insert(empty_mdats.end(), {0, 0, 0, 8, 'm', 'd', 'a', 't'});
    const auto build = [&](std::uint32_t chunk_at) {
        const Bytes stbl = box("stbl", cat({full_box("stsz", 0, cat({be(1, 4), be(samples, 4)})),
                                            full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(samples, 4), be(1, 4)})),
                                            full_box("stco", 0, cat({be(1, 4), be(chunk_at, 4)}))}));
        const Bytes trak = box("trak", box("mdia", cat({hdlr_box("meta"), box("minf", stbl)})));
        return cat({ftyp_mp4, box("moov", cat({mvhd(0), trak})), empty_mdats, box("mdat", Bytes(samples, 'g'))});
    };
    const Bytes in = build(static_cast<std::uint32_t>(build(0).size() - samples));
    const auto r = strip(in);
    CHECK(std::count(r.bytes.end() - samples, r.bytes.end(), 'g') == 0);
    CHECK(r.removed == std::vector<std::string>{"timed metadata track: 200000 samples (200000 bytes zeroed)"});
    CHECK(r.zeroing_steps < 100);  // one zeroing, one binary search over 20001 mdats
}

// Review of issue 22 (MEDIUM): time of day and vendor GPS that used to stay.
TEST_CASE("bmff - timecode tracks, prft/emsg, Novatek gps boxes and free blocks are cleared", "[attachments]") {
    // A tmcd track's one sample (the start frame: the time of day) is zeroed like GPS samples.
    const Bytes mdat = box("mdat", text("VIDEO\x00\x12\x34\x56"s));  // payload at 28; timecode at 33
    const Bytes stbl = box("stbl", cat({full_box("stsz", 0, cat({be(4, 4), be(1, 4)})), full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(1, 4), be(1, 4)})),
                                        full_box("stco", 0, cat({be(1, 4), be(33, 4)}))}));
    const Bytes tmcd = box("trak", box("mdia", cat({hdlr_box("tmcd"), box("minf", stbl)})));
    const auto r = strip(cat({ftyp_mp4, mdat, box("moov", tmcd)}));
    CHECK(std::all_of(r.bytes.begin() + 33, r.bytes.begin() + 37, [](std::uint8_t v) { return v == 0; }));
    CHECK(contains(r.bytes, "VIDEO"));
    // prft (wall-clock time), emsg (an ID3 event), a vendor's data in a free box, and a Novatek
    // 'gps ' index in moov pointing at its freeGPS block inside the mdat payload (second review:
    // the fixes live in mdat, so neutralising the index alone left them in the file).
    const Bytes prft = full_box("prft", 0, cat({be(1, 4), be(0xE7A1B2C3D4E5F607, 8), be(0, 8)}));
    const Bytes emsg = full_box("emsg", 0, text("urn:id3\0\0ID3-Alice-Paris"s));
    const Bytes vendor_free = box("free", text("CAM 2026-05-01 12:34:56 serial 1234"));
    const Bytes gps_block = box("freeGPS ", text("2026-05-01 12:34:56 N48.8584 E2.2945"));
    const auto movie = [&](const Bytes& moov_gps, const Bytes& block) {
        return cat({ftyp_mp4, box("moov", cat({mvhd(0), moov_gps})), prft, emsg, vendor_free, box("free", Bytes(16, 0)),
                    box("mdat", cat({text("VIDEO"), block, text("AUDIO")}))});
    };
    const std::size_t block_at = movie(Bytes(36, 0), {}).size() - 5;  // after "VIDEO" (36: the index's size)
    const Bytes gps_index = box("gps ", cat({be(0x101, 4), be(0, 4), be(2, 4), be(block_at, 4), be(gps_block.size(), 4), be(0, 4), be(0, 4)}));
    REQUIRE(gps_index.size() == 36);
    const Bytes in = movie(gps_index, gps_block);
    REQUIRE(std::equal(gps_block.begin(), gps_block.end(), in.begin() + static_cast<std::ptrdiff_t>(block_at)));
    const auto r2 = strip(in);
    CHECK(r2.bytes == cat({ftyp_mp4, box("moov", cat({zeroed_mvhd(0), free_of(gps_index)})), free_of(prft), free_of(emsg), free_of(vendor_free),
                           box("free", Bytes(16, 0)), box("mdat", cat({text("VIDEO"), Bytes(gps_block.size(), 0), text("AUDIO")}))}));
    CHECK(r2.removed.size() == 5);  // the empty free box is not reported
    CHECK(std::find(r2.removed.begin(), r2.removed.end(), "Novatek GPS blocks in mdat (" + std::to_string(gps_block.size()) + " bytes zeroed)") != r2.removed.end());
    // An index entry outside every mdat is refused, not skipped.
    const Bytes stray = box("gps ", cat({be(0x101, 4), be(0, 4), be(1, 4), be(8, 4), be(16, 4)}));
    CHECK_THROWS(strip(cat({ftyp_mp4, box("moov", cat({mvhd(0), stray})), box("mdat", text("x"))})));
    CHECK(strip(r2.bytes).bytes == r2.bytes);
    CHECK(strip(r2.bytes).removed.empty());
}

TEST_CASE("bmff - heif: creation/modification time, TAI and description properties are zeroed in place", "[attachments]") {
    const Bytes props = cat({full_box("crtt", 0, be(0xDEADBEEFCAFE, 8)), full_box("mdft", 0, be(0xDEADBEEFCAFF, 8)),
                             full_box("udes", 0, text("en\0Alice\0At home in Paris\0family\0"s)),
                             full_box("itai", 0, cat({be(0xDEADBEEFCB00, 8), be(0, 1)}))});
    const Bytes in = heif({items4[0]}, iref_box({}), 1, mdat4, 0, {}, props);
    REQUIRE(contains(in, "At home"));
    const auto r = strip(in);
    CHECK(r.bytes.size() == in.size());
    CHECK_FALSE(contains(r.bytes, "At home"));
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK_FALSE(contains(r.bytes, "\xDE\xAD\xBE\xEF"));
    CHECK(r.removed == std::vector<std::string>{"item property crtt", "item property mdft", "item property udes", "item property itai"});
    // The boxes stay (ipma refers to properties by index), with their version/flags.
    CHECK(contains(r.bytes, "crtt"));
    CHECK(contains(r.bytes, "udes"));
    CHECK(contains(r.bytes, "IMAGE"));
    CHECK(strip(r.bytes).bytes == r.bytes);
}

// Second review of issue 22 (HIGH): top-level boxes of unknown types were copied as they are, so
// Samsung sefd (capture time, SIM country), mpvd (a motion photo's MP4 with GPS) and dash-cam
// boxes left with their content. Only boxes needed to play or decode are now kept at file level.
TEST_CASE("bmff - unknown top-level boxes (sefd, mpvd, dash-cam GPS) are neutralised, playback boxes kept", "[attachments]") {
    const Bytes sefd = box("sefd", text("Image_UTC_Data 1714566896000 MCC_Data 208"));
    const Bytes mpvd = box("mpvd", cat({box("ftyp", text("isom")), box("moov", box("udta", text("+48.8584+002.2945/")))}));
    const Bytes gps = box("GPS ", text("N48.8584 E2.2945"));
    const Bytes thum = box("thum", text("\xFF\xD8 a thumbnail"));
    const Bytes sidx = full_box("sidx", 0, cat({be(1, 4), be(1000, 4), be(0, 4), be(0, 4), be(0, 2), be(0, 2)}));
    const Bytes pdin = full_box("pdin", 0, cat({be(1000, 4), be(1, 4)}));
    const Bytes mdat = box("mdat", text("SAMPLES"));
    const Bytes in = cat({ftyp_mp4, pdin, box("moov", mvhd(0)), sidx, mdat, sefd, mpvd, gps, thum});
    const auto r = strip(in);
    CHECK(r.bytes == cat({ftyp_mp4, pdin, box("moov", zeroed_mvhd(0)), sidx, mdat, free_of(sefd), free_of(mpvd), free_of(gps), free_of(thum)}));
    CHECK(r.removed.size() == 4);
    CHECK(std::find(r.removed.begin(), r.removed.end(), "sefd (unknown file-level box) (" + std::to_string(sefd.size()) + " bytes)") != r.removed.end());
    CHECK(strip(r.bytes).bytes == r.bytes);
}

// Second review of issue 22 (MEDIUM): drones and dash cams write telemetry (position, height,
// time) as timed text or data; those tracks' samples are now zeroed like timed metadata.
TEST_CASE("bmff - the samples of every track but picture and sound (sbtl, subp, ttml, lyrc, hint...) are zeroed", "[attachments]") {
    const Bytes mdat = box("mdat", text("VIDEO[GPS 48.8584, 2.2945]"));  // payload at 28; the telemetry at 33
    const Bytes stbl = box("stbl", cat({full_box("stsz", 0, cat({be(21, 4), be(1, 4)})), full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(1, 4), be(1, 4)})),
                                        full_box("stco", 0, cat({be(1, 4), be(33, 4)}))}));
    for (const std::string handler : {"sbtl", "text", "data", "ctbx", "subt", "clcp", "subp", "ttml", "lyrc", "hint", "odsm", "zzzz"}) {
        INFO(handler);
        const Bytes trak = box("trak", box("mdia", cat({hdlr_box(handler), box("minf", stbl)})));
        const auto r = strip(cat({ftyp_mp4, mdat, box("moov", trak)}));
        REQUIRE(r.bytes.size() >= 54);
        CHECK(std::all_of(r.bytes.begin() + 33, r.bytes.begin() + 54, [](std::uint8_t v) { return v == 0; }));
        CHECK(contains(r.bytes, "VIDEO"));
    }
    // Picture and sound (and auxiliary pictures: depth, alpha) keep their samples.
    for (const std::string handler : {"vide", "soun", "auxv", "pict"}) {
        INFO(handler);
        const Bytes in = cat({ftyp_mp4, mdat, box("moov", box("trak", box("mdia", cat({hdlr_box(handler), box("minf", stbl)}))))});
        CHECK(strip(in).bytes == in);
    }
}

TEST_CASE("bmff - a track's handler name and bytes after mvhd, tkhd, mdhd and elst fields are zeroed in place", "[attachments]") {
    const Bytes mdat = box("mdat", text("VIDEO"));
    const Bytes stbl = box("stbl", cat({full_box("stsz", 0, cat({be(5, 4), be(1, 4)})), full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(1, 4), be(1, 4)})),
                                        full_box("stco", 0, cat({be(1, 4), be(28, 4)}))}));
    const Bytes note = text("Alice Examp.");
    const Bytes named_hdlr = full_box("hdlr", 0, cat({be(0, 4), text("vide"), Bytes(12, 0), note, Bytes(1, 0)}));
    const Bytes elst = full_box("elst", 0, cat({be(1, 4), be(1000, 4), be(0, 4), be(0x10000, 4), note}));
    const Bytes tkhd = full_box("tkhd", 0, cat({be(0, 8), be(1, 4), Bytes(68, 0), note}));
    const Bytes mdhd = full_box("mdhd", 1, cat({Bytes(32, 0), note}));
    const Bytes trak = box("trak", cat({tkhd, box("edts", elst), box("mdia", cat({mdhd, named_hdlr, box("minf", stbl)}))}));
    const Bytes in = cat({ftyp_mp4, mdat, box("moov", cat({mvhd(0), trak}))});
    const Bytes in_mvhd = cat({ftyp_mp4, mdat, box("moov", cat({full_box("mvhd", 0, cat({Bytes(96, 0), note})), trak}))});
    for (const Bytes& file : {in, in_mvhd}) {
        const auto r = strip(file);
        CHECK(r.bytes.size() == file.size());
        CHECK_FALSE(contains(r.bytes, "Alice"));
        CHECK(contains(r.bytes, "VIDEO"));
        CHECK(strip(r.bytes).bytes == r.bytes);  // a second pass changes nothing
    }
    // A movie without trailing bytes or names is left as it is (apart from the times).
    const Bytes plain = cat({ftyp_mp4, mdat, box("moov", box("trak", box("mdia", cat({hdlr_box("vide"), box("minf", stbl)}))))});
    CHECK(strip(plain).bytes == plain);
}

namespace {
// A HEIF whose idat holds two items (iloc construction method 1): the Exif item (2) at
// (exif_at, exif_length) and a kept grid description (3, "grid") at (grid_at, grid_length);
// the image item (1) is 5 bytes in mdat.
Bytes heif_idat_two(const Bytes& idat_payload, std::uint32_t exif_at, std::uint32_t exif_length, std::uint32_t grid_at,
                    std::uint32_t grid_length, const Bytes& extra = {}, const std::string& handler_name = "") {
    const auto build = [&](std::uint32_t mdat_at) {
        const Bytes iloc = full_box("iloc", 1, cat({be(0x4400, 2), be(3, 2),
                                                    be(1, 2), be(0, 2), be(0, 2), be(1, 2), be(mdat_at, 4), be(5, 4),
                                                    be(2, 2), be(1, 2), be(0, 2), be(1, 2), be(exif_at, 4), be(exif_length, 4),
                                                    be(3, 2), be(1, 2), be(0, 2), be(1, 2), be(grid_at, 4), be(grid_length, 4)}));
        const Bytes meta = full_box("meta", 0, cat({
            full_box("hdlr", 0, cat({be(0, 4), text("pict"), Bytes(12, 0), text(handler_name), Bytes{0}})),
            full_box("pitm", 0, be(1, 2)),
            full_box("iinf", 0, cat({be(3, 2), infe(1, "hvc1"), infe(2, "Exif"), infe(3, "grid")})),
            iloc,
            iref_box({ref("cdsc", 2, 1)}),
            box("idat", idat_payload),
            extra,
        }));
        return cat({ftyp_heic, meta, box("mdat", text("IMAGE"))});
    };
    return build(static_cast<std::uint32_t>(build(0).size() - 5));
}
}  // namespace

// Third review of issue 22: a removed item's idat extent was checked against idat's bounds but
// not against the kept items in idat, so zeroing it could wipe a grid's description; and a kept
// item's extent past idat was not checked at all.
TEST_CASE("bmff - heif: idat extents stay inside idat and a removed one may not share a kept one's bytes", "[attachments]") {
    const Bytes idat = text("GRIDDATAExif\0\0GPS+48.8584"s);
    const auto ok = strip(heif_idat_two(idat, 8, 17, 0, 8));
    CHECK_FALSE(contains(ok.bytes, "GPS+48"));
    CHECK(contains(ok.bytes, "GRIDDATA"));
    CHECK(ok.removed == std::vector<std::string>{"Exif item 2"});
    // The Exif extent reaching into the grid's bytes, from either side, or the grid running to
    // the end of idat (length 0) over the Exif item: refused, nothing zeroed.
    CHECK_THROWS_WITH(strip(heif_idat_two(idat, 4, 21, 0, 8)), Catch::Contains("shares bytes with an image in idat"));
    CHECK_THROWS_WITH(strip(heif_idat_two(idat, 0, 10, 8, 4)), Catch::Contains("shares bytes with an image in idat"));
    CHECK_THROWS_WITH(strip(heif_idat_two(idat, 8, 17, 0, 0)), Catch::Contains("shares bytes with an image in idat"));
    // A kept item past the end of idat: its bytes would be read from the boxes after idat.
    CHECK_THROWS_WITH(strip(heif_idat_two(idat, 8, 17, 20, 100)), Catch::Contains("past the end of idat"));
}

namespace {
// Data references naming where a movie's media lives: a QuickTime alias (volume, path), a URL
// to a local file, and a self-contained 'url ' (flags 1: the media is in this file).
const Bytes alis = full_box("alis", 0, text("Macintosh HD\0/Users/alice/Movies/Holiday.mov\0"s));
const Bytes url_path = full_box("url ", 0, text("file:///home/alice/clip.mp4\0"s));
const Bytes url_self = box("url ", cat({be(0, 1), be(1, 3)}));
Bytes dinf_of(const Bytes& a, const Bytes& u) { return box("dinf", full_box("dref", 0, cat({be(3, 4), a, u, url_self}))); }
const Bytes dinf_paths = dinf_of(alis, url_path);
const Bytes dinf_cleared = dinf_of(full_box("alis", 0, Bytes(alis.size() - 12, 0)), full_box("url ", 0, Bytes(url_path.size() - 12, 0)));
}  // namespace

// Third review of issue 22: a dref entry (alis/rsrc alias, url/urn) can hold the volume name
// and path of the media file (a user's home directory), and a QuickTime timecode sample
// description its reel name: zeroed in place, every size, type and flag kept.
TEST_CASE("bmff - data reference paths and timecode reel names are zeroed in place", "[attachments]") {
    const auto tmcd_entry = [](const Bytes& name) {
        return box("tmcd", cat({Bytes(6, 0), be(1, 2), be(0, 4), be(0, 4), be(10240, 4), be(1024, 4), Bytes{10, 0}, box("name", name)}));
    };
    const Bytes reel = cat({be(9, 2), be(0, 2), text("AliceReel")});
    const Bytes video_entry = box("mp4v", cat({Bytes(6, 0), be(1, 2), text("ENCODER")}));  // not a tmcd entry: untouched
    const auto movie = [&](const Bytes& dinf, const Bytes& reel_name) {
        const Bytes stsd = full_box("stsd", 0, cat({be(2, 4), tmcd_entry(reel_name), video_entry}));
        const Bytes stbl = box("stbl", cat({stsd, full_box("stco", 0, cat({be(1, 4), be(28, 4)}))}));
        return cat({ftyp_mp4, box("mdat", text("SAMPLES")), box("moov", box("trak", box("mdia", box("minf", cat({dinf, stbl})))))});
    };
    const Bytes in = movie(dinf_paths, reel);
    const auto r = strip(in);
    CHECK(r.bytes == movie(dinf_cleared, Bytes(reel.size(), 0)));
    CHECK_FALSE(contains(r.bytes, "alice"));
    CHECK_FALSE(contains(r.bytes, "Macintosh"));
    CHECK_FALSE(contains(r.bytes, "AliceReel"));
    CHECK(contains(r.bytes, "ENCODER"));
    CHECK(r.removed == std::vector<std::string>{"2 data reference(s): file location or alias (dref)", "1 timecode reel name(s) (tmcd)"});
    CHECK(strip(r.bytes).bytes == r.bytes);
    CHECK(strip(r.bytes).removed.empty());
    // A tmcd entry whose children are not boxes is refused, not sent half-read.
    const Bytes bad = movie(dinf_paths, {});
    Bytes broken = bad;
    const std::string name_header = "name";
    const auto at = std::search(broken.begin(), broken.end(), name_header.begin(), name_header.end());
    REQUIRE(at != broken.end());
    *(at - 1) = 4;  // the name box says it is 4 bytes long: smaller than its header
    CHECK_THROWS_AS(strip(broken), FormatError);
}

TEST_CASE("bmff - heif: the data references of the meta box are zeroed in place", "[attachments]") {
    const Bytes idat = text("GRIDDATAExif\0\0GPS+48.8584"s);
    const Bytes in = heif_idat_two(idat, 8, 17, 0, 8, dinf_paths);
    REQUIRE(contains(in, "/Users/alice"));
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "alice"));
    CHECK_FALSE(contains(r.bytes, "Macintosh"));
    CHECK(contains(r.bytes, "GRIDDATA"));
    CHECK(r.bytes.size() == in.size());
    CHECK(std::search(r.bytes.begin(), r.bytes.end(), dinf_cleared.begin(), dinf_cleared.end()) != r.bytes.end());
    CHECK(std::find(r.removed.begin(), r.removed.end(), "2 data reference(s) of the meta box (dref)") != r.removed.end());
}

// Third review of issue 22 (item 5): a kept item's infe name could carry a file name
// (IMG_4031.HEIC, a capture time); it is written empty, the meta box followed by a free box.
TEST_CASE("bmff - heif: the names of kept items are emptied", "[attachments]") {
    std::vector<Item> named = items4;
    named[0].type = "hvc1:IMG_20260501_123456.HEIC";
    const Bytes in = heif(named, iref4, 1, mdat4);
    REQUIRE(contains(in, "IMG_2026"));
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "IMG_2026"));
    CHECK(r.bytes.size() == in.size());
    CHECK(std::find(r.removed.begin(), r.removed.end(), "name of item 1") != r.removed.end());
    const Bytes unnamed_infe = infe(1, "hvc1");  // the same entry with an empty name
    CHECK(std::search(r.bytes.begin(), r.bytes.end(), unnamed_infe.begin(), unnamed_infe.end()) != r.bytes.end());
    CHECK(contains(r.bytes, "IMAGE"));
    CHECK(strip(r.bytes).bytes == r.bytes);
}

// Fourth review of issue 22: inside moov/trak/mdia/minf/stbl only listed metadata boxes went, so
// a 'meco' (ISO/IEC 14496-12 additional metadata container) or a vendor box kept its artist,
// comment and location. Every child outside the per-container allow-list is neutralised now.
TEST_CASE("bmff - unknown boxes inside movie containers (meco, vendor boxes) are neutralised, playback boxes kept", "[attachments]") {
    const Bytes meco = box("meco", box("meta", text("Artist Alice Example, +48.8584+002.2945/")));
    const Bytes vendor = box("abcd", text("Alice home"));
    const Bytes stss = full_box("stss", 0, cat({be(1, 4), be(1, 4)}));
    const Bytes stbl = box("stbl", cat({full_box("stsz", 0, cat({be(5, 4), be(1, 4)})), full_box("stsc", 0, cat({be(1, 4), be(1, 4), be(1, 4), be(1, 4)})),
                                        full_box("stco", 0, cat({be(1, 4), be(28, 4)})), stss, vendor}));
    const Bytes minf = box("minf", cat({full_box("vmhd", 0, Bytes(8, 0)), stbl, meco}));
    const Bytes trak = box("trak", cat({box("mdia", cat({hdlr_box("vide"), minf, vendor})), meco}));
    const Bytes in = cat({ftyp_mp4, box("mdat", text("VIDEO")), box("moov", cat({mvhd(0), trak, meco, vendor}))});
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK_FALSE(contains(r.bytes, "48.85"));
    CHECK(contains(r.bytes, "VIDEO"));
    CHECK(contains(r.bytes, std::string(stss.begin(), stss.end())));
    CHECK(contains(r.bytes, "vmhd"));
    CHECK(r.bytes.size() == in.size());
    CHECK(std::count_if(r.removed.begin(), r.removed.end(), [](const std::string& s) { return s.find("unknown box in") != std::string::npos; }) == 6);
    CHECK(std::find(r.removed.begin(), r.removed.end(), "meco (unknown box in moov, " + std::to_string(meco.size()) + " bytes)") != r.removed.end());
    CHECK(strip(r.bytes).bytes == r.bytes);  // a second pass finds free boxes only
}

// Fourth review of issue 22 (item 1): the meta box copied unknown children as they came (exiftool
// showed "[Meta] Unknown skip : Alice home"), and ipco its unknown and uuid properties. Only the
// boxes a decoder needs stay in meta and iprp; unknown properties keep their place (ipma
// indexes them), zeroed; the handler's name is emptied.
TEST_CASE("bmff - heif: unknown, free, skip and uuid boxes leave meta; unknown properties are zeroed; hdlr is unnamed", "[attachments]") {
    const Bytes uuid_prop = box("uuid", cat({text("0123456789abcdef"), text("Alice phone serial")}));
    const Bytes ispe = full_box("ispe", 0, cat({be(64, 4), be(48, 4)}));
    const Bytes iprp = box("iprp", cat({box("ipco", cat({ispe, uuid_prop, box("abcd", text("Alice prop"))})), full_box("ipma", 0, be(0, 4)),
                                         box("vndr", text("Alice iprp"))}));
    const Bytes extra = cat({box("skip", text("Alice home")), box("free", text("Alice free")), box("uuid", cat({text("0123456789abcdef"), text("Alice uuid")})),
                             box("abcd", text("Alice vendor")), iprp});
    const Bytes idat = text("GRIDDATAExif\0\0GPS+48.8584"s);
    const Bytes in = heif_idat_two(idat, 8, 17, 0, 8, extra, "Alice handler");
    REQUIRE(contains(in, "Alice handler"));
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "Alice"));
    CHECK(r.bytes.size() == in.size());
    CHECK(contains(r.bytes, "GRIDDATA"));
    CHECK(contains(r.bytes, "IMAGE"));
    CHECK(contains(r.bytes, std::string(ispe.begin(), ispe.end())));
    const Bytes zeroed_uuid = cat({be(uuid_prop.size(), 4), text("uuid0123456789abcdef"), Bytes(uuid_prop.size() - 24, 0)});
    CHECK(std::search(r.bytes.begin(), r.bytes.end(), zeroed_uuid.begin(), zeroed_uuid.end()) != r.bytes.end());  // kept in place
    for (const char* want : {"meta skip box (18 bytes)", "meta free box (18 bytes)", "meta uuid box (34 bytes)", "meta abcd box (20 bytes)",
                             "iprp vndr box (18 bytes)", "item property uuid", "item property abcd", "name of the meta handler (hdlr)"}) {
        INFO(want);
        CHECK(std::find(r.removed.begin(), r.removed.end(), want) != r.removed.end());
    }
    CHECK(strip(r.bytes).bytes == r.bytes);
}

// Fifth review of issue 22 (item 4): kept fixed-layout properties were copied whole, so text
// appended inside an ispe (after its width and height) survived. Such bytes are zeroed in place.
TEST_CASE("bmff - heif: bytes after the fields of ispe, irot and clli are zeroed in place", "[attachments]") {
    const Bytes ispe = full_box("ispe", 0, cat({be(64, 4), be(48, 4), text("Alice ispe")}));
    const Bytes irot = box("irot", cat({be(1, 1), text("Alice irot")}));
    const Bytes clli = box("clli", cat({be(1000, 2), be(400, 2), text("Alice clli")}));
    const Bytes iprp = box("iprp", cat({box("ipco", cat({ispe, irot, clli})), full_box("ipma", 0, be(0, 4))}));
    const Bytes in = heif_idat_two(text("GRIDDATAExif\0\0GPS+48.8584"s), 8, 17, 0, 8, iprp, "");
    REQUIRE(contains(in, "Alice ispe"));
    const auto r = strip(in);
    CHECK_FALSE(contains(r.bytes, "Alice"));
    const Bytes kept_ispe = full_box("ispe", 0, cat({be(64, 4), be(48, 4), Bytes(10, 0)}));
    CHECK(std::search(r.bytes.begin(), r.bytes.end(), kept_ispe.begin(), kept_ispe.end()) != r.bytes.end());  // fields kept, in place
    CHECK(std::find(r.removed.begin(), r.removed.end(), "bytes after the fields of item property ispe") != r.removed.end());
    CHECK(strip(r.bytes).bytes == r.bytes);
}
