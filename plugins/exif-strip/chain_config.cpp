#include "chain_config.hpp"

#include <stdexcept>

namespace veil::exif_strip {
namespace {

StripperConfig stripper_config(const ChainSettings& s) {
    StripperConfig c;
    c.jpeg = c.png = c.webp = c.tiff = c.gif = c.heif = c.mp4 = false;
    for (const auto& f : s.formats) {
        if (f == "jpeg") {
            c.jpeg = true;
        } else if (f == "png") {
            c.png = true;
        } else if (f == "webp") {
            c.webp = true;
        } else if (f == "tiff") {
            c.tiff = true;
        } else if (f == "gif") {
            c.gif = true;
        } else if (f == "heif") {
            c.heif = true;
        } else if (f == "mp4") {
            c.mp4 = true;
        } else {
            throw std::invalid_argument("exif-strip.formats: unknown format '" + f +
                                        "' (known: jpeg, png, webp, tiff, gif, heif, mp4)");
        }
    }
    if (s.orientation == "keep") {
        c.orientation = OrientationMode::keep;
    } else if (s.orientation == "drop") {
        c.orientation = OrientationMode::drop;
    } else {
        throw std::invalid_argument("exif-strip.orientation: '" + s.orientation + "' is not \"keep\" or \"drop\"");
    }
    if (!s.other_images.empty() && s.other_images != "refuse") {
        throw std::invalid_argument(
            "exif-strip.other_images: '" + s.other_images +
            "' is no longer offered: an image, video or audio file whose metadata cannot be removed is always "
            "refused, unless the sender asks to keep its metadata for that file (veil send --file PATH "
            "--keep-metadata, the web page's checkbox, keep_metadata in JSON-RPC); remove the key");
    }
    return c;
}

}  // namespace

std::vector<std::string> known_processors() { return {"strip-metadata"}; }

ProcessorChain make_chain(const ChainSettings& settings) {
    if (settings.chain.empty()) throw std::invalid_argument("exif-strip.chain: empty; at least \"strip-metadata\"");
    const StripperConfig config = stripper_config(settings);
    ProcessorChain chain;
    for (const auto& name : settings.chain) {
        if (name == "strip-metadata") {
            chain.add(std::make_unique<MetadataStripper>(config));
        } else {
            throw std::invalid_argument("exif-strip.chain: unknown processor '" + name + "' (known: strip-metadata)");
        }
    }
    return chain;
}

}  // namespace veil::exif_strip
