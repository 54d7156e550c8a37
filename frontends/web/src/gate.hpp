#pragma once
// The safety checks of the local web server, as plain functions of request bytes: which
// address it may listen on, which Host and Origin headers are ours (DNS rebinding, other
// sites), the login token and the session cookie. No I/O; the server calls these per request.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace veil::web {

/// Where the server listens: a loopback IPv4 address and a port (0 = any free port).
struct ListenAddress {
    std::string ip;
    std::uint16_t port = 0;
};

/// Parses "IP:PORT" (e.g. "127.0.0.1:0"). Only 127.0.0.0/8 is accepted ("localhost" means
/// 127.0.0.1): throws std::invalid_argument naming the problem otherwise.
ListenAddress parse_listen(std::string_view text);

/// The value of cookie `name` in a Cookie header ("a=1; b=2"), if present.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

/// A file name safe to create in a private directory: the base name only, no control or
/// path characters, at most 100 bytes, never "." or ".."; "file" when nothing is left.
std::string safe_file_name(std::string_view name);

/// Secrets and checks of one running server. Immutable after construction.
class Gate final {
public:
    /// `token_hex` is the login token of the printed URL, `session_hex` the cookie value.
    Gate(std::string ip, std::uint16_t port, std::string token_hex, std::string session_hex);
    /// Wipes the token and the session value.
    ~Gate();
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;

    /// Host must name this server: "IP:PORT" or "localhost:PORT" (case-insensitive name).
    [[nodiscard]] bool host_ok(std::string_view host) const;
    /// An absent Origin (empty) is fine; a present one must be "http://" + a valid Host.
    [[nodiscard]] bool origin_ok(std::string_view origin) const;
    /// The login token, compared in constant time.
    [[nodiscard]] bool token_ok(std::string_view token) const;
    /// True when the Cookie header carries this server's session cookie.
    [[nodiscard]] bool cookie_ok(std::string_view cookie_header) const;

    /// "veil_session_PORT": cookies are not separated by port, so two servers must not share.
    [[nodiscard]] const std::string& cookie_name() const { return cookie_name_; }
    /// The Set-Cookie value given after a good login.
    [[nodiscard]] std::string set_cookie() const;
    /// "http://IP:PORT/login?token=..."
    [[nodiscard]] std::string login_url() const;
    /// The Content-Security-Policy of every page.
    [[nodiscard]] std::string content_security_policy() const;
    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    std::string ip_;
    std::uint16_t port_;
    std::string token_;
    std::string session_;
    std::string cookie_name_;
};

/// Constant-time equality of two strings (length may leak, content does not).
bool equal_secret(std::string_view a, std::string_view b);

}  // namespace veil::web
