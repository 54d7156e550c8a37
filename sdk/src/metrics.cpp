// The Prometheus text format (exposition format 0.0.4): written for the metrics endpoint, read
// back by `veil node status`.
#include "veil/sdk/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace veil::sdk::metrics {

namespace {

std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// Label values escape backslash, double quote and line feed; help text backslash and line feed.
std::string escaped(std::string_view s, bool quote) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && quote) out += "\\\"";
        else out += c;
    }
    return out;
}

bool name_char(char c, bool first) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    return alpha || (!first && c >= '0' && c <= '9');
}

// Reads a metric or label name at the start of `s`; empty when there is none.
std::string_view take_name(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && name_char(s[n], n == 0)) ++n;
    auto name = s.substr(0, n);
    s.remove_prefix(n);
    return name;
}

// Reads a quoted label value (after its opening quote) up to its closing quote.
bool take_value(std::string_view& s, std::string& out) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') {
            s.remove_prefix(i + 1);
            return true;
        }
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i == s.size()) return false;
        char e = s[i];
        if (e == 'n') out += '\n';
        else if (e == '\\' || e == '"') out += e;
        else return false;
    }
    return false;
}

bool take_labels(std::string_view& s, std::vector<Label>& labels) {
    s.remove_prefix(1);  // '{'
    while (!s.empty() && s.front() != '}') {
        auto name = take_name(s);
        if (name.empty() || s.size() < 2 || s[0] != '=' || s[1] != '"') return false;
        s.remove_prefix(2);
        std::string value;
        if (!take_value(s, value)) return false;
        labels.emplace_back(std::string(name), std::move(value));
        if (!s.empty() && s.front() == ',') s.remove_prefix(1);
        else if (s.empty() || s.front() != '}') return false;
    }
    if (s.empty()) return false;
    s.remove_prefix(1);  // '}'
    return true;
}

bool take_number(std::string_view s, double& out) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    auto end = s.find(' ');  // an optional timestamp follows
    std::string text(s.substr(0, end));
    if (text.empty()) return false;
    if (text == "+Inf" || text == "Inf") {
        out = INFINITY;
        return true;
    }
    if (text == "-Inf") {
        out = -INFINITY;
        return true;
    }
    char* stop = nullptr;
    out = std::strtod(text.c_str(), &stop);
    return stop == text.c_str() + text.size();
}

}  // namespace

std::string render(const std::vector<Family>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# HELP " + f.name + " " + escaped(f.help, false) + "\n";
        out += "# TYPE " + f.name + (f.kind == Kind::gauge ? " gauge\n" : " counter\n");
        for (const auto& s : f.samples) {
            out += f.name;
            if (!s.labels.empty()) {
                out += '{';
                for (std::size_t i = 0; i < s.labels.size(); ++i) {
                    if (i) out += ',';
                    out += s.labels[i].first + "=\"" + escaped(s.labels[i].second, true) + '"';
                }
                out += '}';
            }
            out += ' ' + number(s.value) + '\n';
        }
    }
    return out;
}

Result<std::vector<Reading>> parse(std::string_view text) {
    std::vector<Reading> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        if (line.empty() || line.front() == '#') continue;
        auto bad = [&] { return Error{ErrorCode::bad_input, "metrics: line " + std::to_string(line_no) + " is not a sample"}; };
        if (out.size() == kMaxReadings) return Error{ErrorCode::too_large, "metrics: more than 10000 samples"};
        Reading r;
        r.name = std::string(take_name(line));
        if (r.name.empty()) return bad();
        if (!line.empty() && line.front() == '{' && !take_labels(line, r.labels)) return bad();
        if (line.empty() || line.front() != ' ' || !take_number(line, r.value)) return bad();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace veil::sdk::metrics
