#pragma once
// Turns the plugin's config values into a processor chain (no SDK here, so it is unit-tested).

#include <string>
#include <vector>

#include "metadata_stripper.hpp"
#include "processor.hpp"

namespace veil::exif_strip {

/// The plugin's config table, as plain values.
struct ChainSettings final {
    std::vector<std::string> chain{"strip-metadata"};  ///< processor names, in order
    std::vector<std::string> formats{"jpeg", "png", "webp", "heif", "mp4"};
    std::string orientation = "keep";   ///< "keep" or "drop"
    std::string other_images = "pass";  ///< GIF/TIFF/HEIF/AVIF/BMP: "pass" (reported) or "refuse"
};

/// Builds the chain; throws std::invalid_argument naming the bad key and value
/// (an unknown processor, format or orientation mode, an empty chain).
ProcessorChain make_chain(const ChainSettings& settings);

/// Names accepted in `chain`.
std::vector<std::string> known_processors();

}  // namespace veil::exif_strip
