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
    std::vector<std::string> formats{"jpeg", "png", "webp", "tiff", "gif", "heif", "mp4"};
    std::string orientation = "keep";  ///< "keep" or "drop"
    /// Replaced by the no-silent-leaks policy: "" or "refuse" (what now always happens) are
    /// accepted; "pass" is refused with a message naming what replaces it (keep_metadata).
    std::string other_images{};
};

/// Builds the chain; throws std::invalid_argument naming the bad key and value
/// (an unknown processor, format or orientation mode, an empty chain, other_images = "pass").
ProcessorChain make_chain(const ChainSettings& settings);

/// Names accepted in `chain`.
std::vector<std::string> known_processors();

}  // namespace veil::exif_strip
