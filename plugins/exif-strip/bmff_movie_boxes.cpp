#include "bmff_movie_boxes.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

namespace veil::exif_strip::bmff {
namespace {

struct Allowed final {
    std::string_view container;
    std::initializer_list<std::string_view> children;
};

// Structure, timing, sample tables, sample groups, encryption and QuickTime track settings.
// Boxes the stripper handles itself (udta, meta, free, ...) are decided before this list.
// In a picture meta box: the item tables; iprp's children; and in ipco the properties a decoder
// reads (dating and describing ones, crtt/mdft/itai/udes, are handled by the HEIF stripper).
const std::array<Allowed, 13> allowed{{
    {"meta", {"hdlr", "pitm", "dinf", "iloc", "iinf", "iref", "iprp", "idat", "grpl", "ipro"}},
    {"iprp", {"ipco", "ipma"}},
    {"ipco", {"ispe", "pixi", "colr", "irot", "imir", "clap", "pasp", "auxC", "hvcC", "av1C", "avcC", "vvcC", "lhvC",
              "jpgC", "j2kH", "uncC", "cmpd", "rloc", "lsel", "a1op", "a1lx", "oinf", "tols", "clli", "mdcv", "cclv", "amve",
              "ccst"}},
    {"moov", {"mvhd", "trak", "mvex", "iods", "pssh", "clip", "ctab"}},
    {"trak", {"tkhd", "tref", "trgr", "edts", "mdia", "load", "imap", "matt", "clip", "txas", "tapt"}},
    {"edts", {"elst"}},
    {"mdia", {"mdhd", "hdlr", "minf", "elng"}},
    // gmhd (QuickTime base media header: gmin, and the tmcd/text display settings) is kept whole.
    {"minf", {"vmhd", "smhd", "hmhd", "nmhd", "sthd", "gmhd", "hdlr", "dinf", "stbl"}},
    {"stbl", {"stsd", "stts", "ctts", "cslg", "stsc", "stsz", "stz2", "stco", "co64", "stss", "stps", "stsh", "padb",
              "stdp", "sdtp", "sbgp", "sgpd", "subs", "saiz", "saio"}},
    {"mvex", {"mehd", "trex", "leva", "trep"}},
    {"moof", {"mfhd", "traf", "pssh"}},
    {"traf", {"tfhd", "trun", "tfdt", "sdtp", "sbgp", "sgpd", "subs", "saiz", "saio", "senc"}},
    {"mfra", {"tfra", "mfro"}},
}};

}  // namespace

bool is_playback_child(std::string_view container, std::string_view type) {
    const auto c = std::find_if(allowed.begin(), allowed.end(), [&](const Allowed& a) { return a.container == container; });
    return c != allowed.end() && std::find(c->children.begin(), c->children.end(), type) != c->children.end();
}

}  // namespace veil::exif_strip::bmff
