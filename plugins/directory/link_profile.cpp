#include "link_profile.hpp"

#include <toml++/toml.h>

#include <set>
#include <stdexcept>

namespace veil::directory {

namespace {

const std::set<std::string> kKeys{"delay_ms", "jitter_ms", "bandwidth_kbit", "in_delay_ms", "in_jitter_ms",
                                  "in_bandwidth_kbit", "out_delay_ms", "out_jitter_ms", "out_bandwidth_kbit",
                                  "stall_probability", "stall_ms"};

[[noreturn]] void bad(const std::string& where, const toml::node& n, const std::string& what) {
    throw std::runtime_error(where + ":" + std::to_string(n.source().begin.line) + ": " + what);
}

std::uint64_t millis(const std::string& where, const std::string& key, const toml::node& n) {
    auto v = n.value<std::int64_t>();
    if (!v || *v < 0 || *v > 3'600'000) bad(where, n, key + " must be an integer 0..3600000");
    return static_cast<std::uint64_t>(*v);
}

// Applies one table (a link's or [default]) over `p`: plain keys to both directions, then
// in_/out_ keys to one.
void apply(const std::string& where, const toml::table& t, LinkProfile& p) {
    for (const auto& [k, v] : t) {
        const std::string key(k.str());
        if (!kKeys.count(key)) bad(where, v, "unknown key '" + key + "'");
    }
    for (const std::string prefix : {"", "in_", "out_"}) {
        for (auto* dir : {&p.in, &p.out}) {
            if (prefix == "in_" && dir != &p.in) continue;
            if (prefix == "out_" && dir != &p.out) continue;
            if (auto* n = t.get(prefix + "delay_ms")) dir->delay_ms = millis(where, prefix + "delay_ms", *n);
            if (auto* n = t.get(prefix + "jitter_ms")) dir->jitter_ms = millis(where, prefix + "jitter_ms", *n);
            if (auto* n = t.get(prefix + "bandwidth_kbit")) {
                auto v = n->value<std::int64_t>();
                if (!v || *v < 0) bad(where, *n, prefix + "bandwidth_kbit must be an integer >= 0");
                dir->bandwidth_kbit = static_cast<std::uint64_t>(*v);
            }
        }
    }
    if (auto* n = t.get("stall_probability")) {
        auto v = n->value<double>();
        if (!v || *v < 0 || *v > 1) bad(where, *n, "stall_probability must be a number 0..1");
        p.stall_probability = *v;
    }
    if (auto* n = t.get("stall_ms")) p.stall_ms = millis(where, "stall_ms", *n);
}

}  // namespace

LinkProfile load_link_profile(const std::optional<std::filesystem::path>& file, const std::string& name,
                              std::optional<std::uint64_t> delay_ms) {
    LinkProfile p;
    if (file) {
        const std::string where = file->string();
        toml::table doc;
        try {
            doc = toml::parse_file(where);
        } catch (const toml::parse_error& e) {
            throw std::runtime_error(where + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
        }
        for (const auto& [k, v] : doc) {
            if ((k.str() != "default" && k.str() != "links") || !v.is_table())
                bad(where, v, "unknown table '" + std::string(k.str()) + "' (default, links.NAME)");
        }
        if (auto* t = doc["default"].as_table()) apply(where, *t, p);
        if (auto* links = doc["links"].as_table()) {
            for (const auto& [k, v] : *links)
                if (!v.is_table()) bad(where, v, "links." + std::string(k.str()) + " must be a table");
            if (auto* t = (*links)[name].as_table()) apply(where, *t, p);
        }
    }
    if (delay_ms) p.in.delay_ms = p.out.delay_ms = *delay_ms;
    return p;
}

}  // namespace veil::directory
