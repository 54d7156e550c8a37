#include "node_metrics.hpp"

#include <cstdio>
#include <iterator>

#include "veil/proto/node_rpc.hpp"

namespace veil::node {

namespace {

using sdk::metrics::Family;
using sdk::metrics::Kind;
using sdk::metrics::Reading;
using namespace veil::proto::node;

constexpr std::uint8_t kFirstMethod = 1, kLastMethod = static_cast<std::uint8_t>(Method::challenge);
constexpr std::uint8_t kFirstRefusal = 2, kLastRefusal = static_cast<std::uint8_t>(Status::pow_required);

// A byte off the wire names a method or status only within the known range.
std::string method_name(std::uint8_t m) {
    return m >= kFirstMethod && m <= kLastMethod ? to_string(static_cast<Method>(m)) : "unknown";
}
// Label values: the enum's names (to_string(Status) is a sentence for people).
std::string status_name(std::uint8_t s) {
    static constexpr const char* kNames[] = {"bad_request", "unknown_method", "bad_signature", "clock_out_of_window",
                                             "replayed", "too_large", "bad_ttl", "quota_exceeded", "rate_limited",
                                             "wrong_swarm", "not_ready", "internal", "unauthorized", "pow_required"};
    static_assert(std::size(kNames) == kLastRefusal - kFirstRefusal + 1);
    return s >= kFirstRefusal && s <= kLastRefusal ? kNames[s - kFirstRefusal] : "unknown";
}

Family one(std::string name, std::string help, Kind kind, double value) {
    return Family{std::move(name), std::move(help), kind, {{{}, value}}};
}

// A family with one sample a known label value (zeros included, so rates work from the start).
Family by_label(std::string name, std::string help, const char* label, std::uint8_t first, std::uint8_t last,
                std::string (*name_of)(std::uint8_t), const std::map<std::uint8_t, std::uint64_t>& counts) {
    Family f{std::move(name), std::move(help), Kind::counter, {}};
    std::uint64_t unknown = 0;
    for (const auto& [k, n] : counts)
        if (k < first || k > last) unknown += n;
    for (auto k = first; k <= last; ++k) {
        auto it = counts.find(k);
        f.samples.push_back({{{label, name_of(k)}}, static_cast<double>(it == counts.end() ? 0 : it->second)});
    }
    f.samples.push_back({{{label, "unknown"}}, static_cast<double>(unknown)});
    return f;
}

// ---- reading a scrape back ----

double value_of(const std::vector<Reading>& rs, std::string_view name, std::string_view label = {},
                std::string_view label_value = {}) {
    double sum = 0;
    for (const auto& r : rs) {
        if (r.name != name) continue;
        if (label.empty()) {
            sum += r.value;
            continue;
        }
        for (const auto& [k, v] : r.labels)
            if (k == label && v == label_value) sum += r.value;
    }
    return sum;
}

bool has(const std::vector<Reading>& rs, std::string_view name) {
    for (const auto& r : rs)
        if (r.name == name) return true;
    return false;
}

std::string count(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

std::string bytes(double v) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

// "store 12, retrieve 7" for the non-zero samples of a labelled family (or "none").
std::string nonzero(const std::vector<Reading>& rs, std::string_view name) {
    std::string out;
    for (const auto& r : rs) {
        if (r.name != name || r.value == 0 || r.labels.empty()) continue;
        out += (out.empty() ? "" : ", ") + r.labels.front().second + " " + count(r.value);
    }
    return out.empty() ? "none" : out;
}

}  // namespace

std::uint8_t method_byte(const std::vector<std::uint8_t>& request) { return request.size() < 6 ? 0 : request[1]; }

std::uint8_t status_byte(const std::vector<std::uint8_t>& response) { return response.size() < 6 ? 0 : response[5]; }

void NodeCounters::end(std::uint8_t method, std::uint8_t status) {
    if (in_flight) --in_flight;
    if (status == static_cast<std::uint8_t>(Status::ok)) ++served[method];
    else ++refused[status];
}

std::vector<Family> node_families(const NodeCounters& c, const NodeLevels& l, std::uint64_t now_ms) {
    std::vector<Family> out;
    out.push_back(by_label("veil_node_served_total", "requests answered ok, by method (stores, retrieves, ...)", "method",
                           kFirstMethod, kLastMethod, method_name, c.served));
    out.push_back(by_label("veil_node_refused_total", "requests answered with an error, by reason", "reason", kFirstRefusal,
                           kLastRefusal, status_name, c.refused));
    out.push_back(one("veil_node_in_flight_requests", "requests received and not answered yet (parked subscribes included)",
                      Kind::gauge, static_cast<double>(c.in_flight)));
    out.push_back(one("veil_node_parked_subscribes", "long-polls waiting for a message", Kind::gauge,
                      static_cast<double>(l.parked_subscribes)));
    out.push_back(one("veil_node_connections", "open connections on the node's port", Kind::gauge,
                      static_cast<double>(l.connections)));
    const auto& d = l.doors;
    out.push_back(Family{"veil_node_connections_closed_total", "connections the node's port refused or closed, by reason",
                         Kind::counter,
                         {{{{"reason", "source_full"}}, static_cast<double>(d.refused_per_source)},
                          {{{"reason", "group_full"}}, static_cast<double>(d.refused_per_group)},
                          {{{"reason", "node_full"}}, static_cast<double>(d.refused_when_full)},
                          {{{"reason", "evicted"}}, static_cast<double>(d.evicted_when_full)},
                          {{{"reason", "frame_late"}}, static_cast<double>(d.late_frames)},
                          {{{"reason", "idle"}}, static_cast<double>(d.idle_closed)},
                          {{{"reason", "over_budget"}}, static_cast<double>(d.over_budget)},
                          {{{"reason", "bad_frame"}}, static_cast<double>(d.refused_frames)}}});
    out.push_back(one("veil_node_database_file_bytes", "the message database on disk (with its WAL)", Kind::gauge,
                      static_cast<double>(l.database_file_bytes)));
    out.push_back(one("veil_node_stored_bytes", "bytes charged against max_stored_bytes", Kind::gauge,
                      static_cast<double>(l.stored_bytes)));
    out.push_back(one("veil_node_max_stored_bytes", "the node's cap (max_stored_bytes)", Kind::gauge,
                      static_cast<double>(l.max_stored_bytes)));
    out.push_back(one("veil_node_stored_rows", "messages and tombstones held", Kind::gauge, static_cast<double>(l.rows)));
    out.push_back(one("veil_node_manifest_version", "version of the manifest the node holds (0: none yet)", Kind::gauge,
                      static_cast<double>(l.manifest_version)));
    out.push_back(one("veil_node_swarm_peers", "other members of the node's swarm", Kind::gauge,
                      static_cast<double>(l.swarm_peers)));
    out.push_back(one("veil_node_replication_pushes_total", "stores, deletes and expiries pushed to swarm members",
                      Kind::counter, static_cast<double>(c.replication_sent)));
    out.push_back(one("veil_node_replication_failures_total", "pushes a member did not acknowledge (catch-up repairs them)",
                      Kind::counter, static_cast<double>(c.replication_failed)));
    out.push_back(one("veil_node_replication_pending", "pushes sent and not answered yet", Kind::gauge,
                      static_cast<double>(c.replication_pending)));
    out.push_back(one("veil_node_catch_up_rounds_total", "reconciliation rounds with the swarm finished", Kind::counter,
                      static_cast<double>(c.catch_up_rounds)));
    out.push_back(one("veil_node_catch_up_fetched_total", "messages this node lacked and fetched from its swarm",
                      Kind::counter, static_cast<double>(c.catch_up_fetched)));
    if (c.caught_up_ms)
        out.push_back(one("veil_node_replication_lag_seconds",
                          "since the last reconciliation with the swarm finished: the longest a missed push stays missing",
                          Kind::gauge, static_cast<double>(now_ms - std::min(now_ms, *c.caught_up_ms)) / 1000.0));
    return out;
}

std::string status_text(const std::vector<Reading>& rs) {
    std::string out;
    auto line = [&](const char* what, const std::string& text) { out += std::string(what) + text + "\n"; };
    line("served          ", nonzero(rs, "veil_node_served_total"));
    line("refused         ", nonzero(rs, "veil_node_refused_total"));
    line("in flight       ", count(value_of(rs, "veil_node_in_flight_requests")) + " (parked subscribes " +
                                 count(value_of(rs, "veil_node_parked_subscribes")) + ")");
    line("connections     ", count(value_of(rs, "veil_node_connections")) + " open; closed: " +
                                 nonzero(rs, "veil_node_connections_closed_total"));
    line("database        ", bytes(value_of(rs, "veil_node_database_file_bytes")) + " on disk; " +
                                 bytes(value_of(rs, "veil_node_stored_bytes")) + " of " +
                                 bytes(value_of(rs, "veil_node_max_stored_bytes")) + " charged; " +
                                 count(value_of(rs, "veil_node_stored_rows")) + " rows");
    std::string lag = has(rs, "veil_node_replication_lag_seconds")
                          ? count(value_of(rs, "veil_node_replication_lag_seconds")) + " s since the last catch-up"
                          : "no catch-up round finished yet";
    line("replication     ", count(value_of(rs, "veil_node_replication_pushes_total")) + " pushes, " +
                                 count(value_of(rs, "veil_node_replication_failures_total")) + " failed, " +
                                 count(value_of(rs, "veil_node_replication_pending")) + " pending; " + lag + " (" +
                                 count(value_of(rs, "veil_node_catch_up_fetched_total")) + " messages fetched in " +
                                 count(value_of(rs, "veil_node_catch_up_rounds_total")) + " rounds)");
    line("swarm           ", count(value_of(rs, "veil_node_swarm_peers")) + " other members; manifest version " +
                                 count(value_of(rs, "veil_node_manifest_version")));
    if (has(rs, "veil_onion_relayed_total"))
        line("onion relay     ", nonzero(rs, "veil_onion_relayed_total") + "; refused: " +
                                     nonzero(rs, "veil_onion_refused_total") + "; failed " +
                                     count(value_of(rs, "veil_onion_failed_total")) + "; in flight " +
                                     count(value_of(rs, "veil_onion_in_flight")));
    return out;
}

}  // namespace veil::node
