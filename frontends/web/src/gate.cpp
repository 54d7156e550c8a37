// Safety checks of the local web server (see gate.hpp).
#include "gate.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace veil::web {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Dotted-quad IPv4 with four decimal parts 0..255; returns the first octet.
std::optional<int> ipv4_first_octet(std::string_view ip) {
    int parts = 0;
    int first = -1;
    while (true) {
        auto dot = ip.find('.');
        auto part = ip.substr(0, dot);
        int v = 0;
        if (part.empty() || part.size() > 3) return std::nullopt;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec != std::errc{} || p != part.data() + part.size() || v > 255) return std::nullopt;
        if (parts == 0) first = v;
        ++parts;
        if (dot == std::string_view::npos) break;
        ip.remove_prefix(dot + 1);
    }
    if (parts != 4) return std::nullopt;
    return first;
}

}  // namespace

ListenAddress parse_listen(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        throw std::invalid_argument("listen must be IP:PORT (e.g. 127.0.0.1:0), got '" + std::string(text) + "'");
    }
    std::string ip(text.substr(0, colon));
    auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535) {
        throw std::invalid_argument("listen: bad port '" + std::string(port_text) + "'");
    }
    if (iequals(ip, "localhost")) ip = "127.0.0.1";
    auto first = ipv4_first_octet(ip);
    if (!first || *first != 127) {
        throw std::invalid_argument("listen: '" + ip +
                                    "' is not a loopback IPv4 address; the web page serves 127.0.0.0/8 only");
    }
    return ListenAddress{ip, static_cast<std::uint16_t>(port)};
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto semi = header.find(';');
        auto pair = trim(header.substr(0, semi));
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) return trim(pair.substr(eq + 1));
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return std::nullopt;
}

std::string safe_file_name(std::string_view name) {
    auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string out;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == ':' || c == '"' || c == '<' || c == '>' || c == '|' || c == '*' ||
            c == '?') {
            out.push_back('_');
        } else {
            out.push_back(c);
        }
    }
    while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(out.begin());
    if (out.size() > 100) {
        // Keep the extension: it decides how the file is shown.
        auto dot = out.rfind('.');
        std::string ext = (dot != std::string::npos && out.size() - dot <= 10) ? out.substr(dot) : "";
        // Cut at a character boundary: never inside a UTF-8 sequence.
        auto cut = 100 - ext.size();
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out = out.substr(0, cut) + ext;
    }
    if (out.empty() || out == "." || out == "..") return "file";
    return out;
}

bool equal_secret(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Gate::Gate(std::string ip, std::uint16_t port, std::string token_hex, std::string session_hex)
    : ip_(std::move(ip)),
      port_(port),
      token_(std::move(token_hex)),
      session_(std::move(session_hex)),
      cookie_name_("veil_session_" + std::to_string(port)) {}

Gate::~Gate() {
    sodium_memzero(token_.data(), token_.size());
    sodium_memzero(session_.data(), session_.size());
}

bool Gate::host_ok(std::string_view host) const {
    auto suffix = ":" + std::to_string(port_);
    if (host.size() <= suffix.size() || host.substr(host.size() - suffix.size()) != suffix) return false;
    auto name = host.substr(0, host.size() - suffix.size());
    return name == ip_ || iequals(name, "localhost");
}

bool Gate::origin_ok(std::string_view origin) const {
    if (origin.empty()) return true;
    constexpr std::string_view scheme = "http://";
    if (origin.substr(0, scheme.size()) != scheme) return false;
    return host_ok(origin.substr(scheme.size()));
}

bool Gate::token_ok(std::string_view token) const { return !token.empty() && equal_secret(token, token_); }

bool Gate::cookie_ok(std::string_view cookie_header) const {
    auto v = cookie_value(cookie_header, cookie_name_);
    return v && equal_secret(*v, session_);
}

std::string Gate::set_cookie() const {
    return cookie_name_ + "=" + session_ + "; Path=/; HttpOnly; SameSite=Strict";
}

std::string Gate::login_url() const {
    return "http://" + ip_ + ":" + std::to_string(port_) + "/login?token=" + token_;
}

std::string Gate::content_security_policy() const {
    auto port = std::to_string(port_);
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           "connect-src 'self' ws://" + ip_ + ":" + port + " ws://localhost:" + port +
           "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
}

}  // namespace veil::web
