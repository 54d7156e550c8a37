// The metrics endpoint's request reader and the text-format reader on arbitrary bytes: the
// reader decides within its bound and serves only a complete GET /metrics head; whatever the
// text reader accepts renders and reads back to the same samples.
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "veil/sdk/metrics.hpp"
#include "veil/sdk/metrics_http.hpp"

namespace m = veil::sdk::metrics;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto ask = m::read_request(in);
    if (ask == m::Ask::need_more && size >= m::kMaxRequestBytes) std::abort();
    if (ask == m::Ask::metrics &&
        (!in.starts_with("GET /metrics HTTP/1.") ||
         (in.find("\r\n\r\n") == std::string_view::npos && in.find("\n\n") == std::string_view::npos)))
        std::abort();

    auto readings = m::parse(in);
    if (!readings) return 0;
    std::vector<m::Family> families;
    for (const auto& r : readings.value()) families.push_back({r.name, "h", m::Kind::gauge, {{r.labels, r.value}}});
    auto again = m::parse(m::render(families));
    if (!again || again.value().size() != readings.value().size()) std::abort();
    for (std::size_t i = 0; i < again.value().size(); ++i) {
        const auto& a = readings.value()[i];
        const auto& b = again.value()[i];
        bool same_value = a.value == b.value || (std::isnan(a.value) && std::isnan(b.value));
        if (a.name != b.name || a.labels != b.labels || !same_value) std::abort();
    }
    return 0;
}
