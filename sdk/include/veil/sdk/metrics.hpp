#pragma once
/// Counters a plugin shows its operator, the bus request that collects them, and the Prometheus
/// text format they are served in (exposition format 0.0.4, docs/service-node.md §Metrics).
/// Aggregates only: a metric never carries anything about a client (no address, mailbox,
/// namespace or key); label values come from fixed sets (methods, reasons, kinds).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk::metrics {

/// What a family measures. Zero is never valid.
enum class Kind : std::uint8_t {
    counter = 1,  ///< only goes up (since the process started)
    gauge,        ///< a level now
};

/// Label name and value.
using Label = std::pair<std::string, std::string>;

/// One value of a family, told apart from its siblings by its labels.
struct Sample {
    std::vector<Label> labels;
    double value = 0;
};

/// A metric name with its help line, kind and samples.
struct Family {
    std::string name;  ///< [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. "veil_node_served_total"
    std::string help;  ///< one line
    Kind kind = Kind::counter;
    std::vector<Sample> samples;
};

/// Reply of Collect.
struct Families {
    std::vector<Family> families;
};

/// Request: the families a plugin keeps. Each plugin that has some serves it on the route of its
/// own name ("onion-relay"); whoever serves the endpoint asks the routes it knows. Loop thread.
struct Collect {
    static constexpr std::string_view topic = "veil.metrics.collect";
    using Reply = Families;
};

/// The text format of `families`: "# HELP", "# TYPE" and one "name{labels} value" line a sample.
VEIL_SDK_API std::string render(const std::vector<Family>& families);

/// One sample read back from the text format.
struct Reading {
    std::string name;
    std::vector<Label> labels;
    double value = 0;
};

/// Most samples parse() reads: an endpoint's answer is bounded, so is what is read of it.
inline constexpr std::size_t kMaxReadings = 10'000;

/// Reads the text format as render() writes it (comment lines skipped; labels quoted with \\, \"
/// and \n escapes; values as strtod reads them, also NaN and +Inf). bad_input naming the line on
/// anything else, or past kMaxReadings samples.
VEIL_SDK_API Result<std::vector<Reading>> parse(std::string_view text);

}  // namespace veil::sdk::metrics
