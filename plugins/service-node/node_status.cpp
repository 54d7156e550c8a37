#include "node_status.hpp"

#include <cmath>
#include <cstdio>

#include "node_metrics.hpp"
#include "veil/sdk/metrics_http.hpp"

namespace veil::node {

namespace {

constexpr std::uint64_t kScrapeTimeoutMs = 5000;

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// One line a sample: {"name":..., "labels":{...}, "value":...}.
std::string json_lines(const std::vector<sdk::metrics::Reading>& readings) {
    std::string out;
    for (const auto& r : readings) {
        out += "{\"name\":" + json_string(r.name) + ",\"labels\":{";
        for (std::size_t i = 0; i < r.labels.size(); ++i)
            out += (i ? "," : "") + json_string(r.labels[i].first) + ":" + json_string(r.labels[i].second);
        char value[32];
        std::snprintf(value, sizeof value, "%.17g", r.value);
        out += std::string("},\"value\":") + (std::isfinite(r.value) ? value : "null") + "}\n";
    }
    return out;
}

void run_status(sdk::Context& ctx, const std::string& listen, sdk::CommandCall call) {
    const auto& a = call.args();
    std::string mode = a.size() == 2 ? a[1] : "";
    if (a.empty() || a[0] != "status" || a.size() > 2 || (a.size() == 2 && mode != "--raw" && mode != "--json"))
        return call.fail("usage: veil --config FILE node status [--raw|--json]");
    if (listen.empty())
        return call.fail("the node's metrics are off in this config: set [service-node] metrics_listen = \"127.0.0.1:PORT\" "
                         "and restart the node (docs/service-node.md §Metrics)",
                         sdk::exit_code::failure);
    auto at = sdk::net::parse_endpoint(listen);
    if (!at) return call.fail("service-node.metrics_listen: " + at.error().message, sdk::exit_code::failure);
    sdk::metrics::scrape(ctx.loop(), at.value(), kScrapeTimeoutMs, [call, mode, listen](sdk::Result<std::string> r) {
        if (!r)
            return call.fail("cannot read the node's metrics at " + listen + ": " + r.error().message +
                                 " (is the node running with this config?)",
                             sdk::exit_code::failure);
        if (mode == "--raw") {
            call.out(r.value());
            return call.finish(sdk::exit_code::ok);
        }
        auto readings = sdk::metrics::parse(r.value());
        if (!readings) return call.fail(readings.error().message, sdk::exit_code::failure);
        call.out(mode == "--json" ? json_lines(readings.value()) : status_text(readings.value()));
        call.finish(sdk::exit_code::ok);
    });
}

}  // namespace

void add_status_command(sdk::Context& ctx, std::string metrics_listen) {
    ctx.add_command({"node", "a running service node's counters, for its operator", "node status [--raw|--json]",
                     [&ctx, listen = std::move(metrics_listen)](sdk::CommandCall call) { run_status(ctx, listen, std::move(call)); },
                     "  status   what the node serving [service-node] metrics_listen counts: requests served and\n"
                     "           refused by reason, in flight, database, replication, onion relay\n"
                     "  --raw    the Prometheus text as the endpoint serves it\n"
                     "  --json   one JSON object a line: name, labels, value\n"});
}

}  // namespace veil::node
