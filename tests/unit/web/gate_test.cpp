// The safety checks of the web page as plain functions (frontends/web/src/gate.cpp).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "gate.hpp"

using namespace veil::web;

namespace {
const std::string kToken(64, 'a');
const std::string kSession(64, 'b');
}  // namespace

TEST_CASE("web - listen accepts loopback only", "[web]") {
    auto a = parse_listen("127.0.0.1:0");
    CHECK(a.ip == "127.0.0.1");
    CHECK(a.port == 0);
    CHECK(parse_listen("127.3.2.1:8080").port == 8080);
    CHECK(parse_listen("localhost:9").ip == "127.0.0.1");
    CHECK_THROWS_AS(parse_listen("0.0.0.0:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("192.168.1.2:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("128.0.0.1:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("127.0.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("127.0.0.1:65536"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("127.0.0.1:-1"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("127.0.0:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("127.0.0.256:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("[::]:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("example.com:80"), std::invalid_argument);
}

TEST_CASE("web - Host must name this server (DNS rebinding)", "[web]") {
    Gate g("127.0.0.1", 4321, kToken, kSession);
    CHECK(g.host_ok("127.0.0.1:4321"));
    CHECK(g.host_ok("localhost:4321"));
    CHECK(g.host_ok("LocalHost:4321"));
    CHECK_FALSE(g.host_ok("127.0.0.1:4322"));
    CHECK_FALSE(g.host_ok("127.0.0.1"));
    CHECK_FALSE(g.host_ok("evil.example:4321"));
    CHECK_FALSE(g.host_ok("localhost.evil.example:4321"));
    CHECK_FALSE(g.host_ok("127.0.0.2:4321"));
    CHECK_FALSE(g.host_ok(":4321"));
    CHECK_FALSE(g.host_ok(""));
}

TEST_CASE("web - Origin, when present, must be this server", "[web]") {
    Gate g("127.0.0.1", 4321, kToken, kSession);
    CHECK(g.origin_ok(""));
    CHECK(g.origin_ok("http://127.0.0.1:4321"));
    CHECK(g.origin_ok("http://localhost:4321"));
    CHECK_FALSE(g.origin_ok("null"));
    CHECK_FALSE(g.origin_ok("https://127.0.0.1:4321"));
    CHECK_FALSE(g.origin_ok("http://evil.example"));
    CHECK_FALSE(g.origin_ok("http://127.0.0.1:4321/"));
    CHECK_FALSE(g.origin_ok("http://127.0.0.1:1234"));
}

TEST_CASE("web - the token and the session cookie are checked exactly", "[web]") {
    Gate g("127.0.0.1", 4321, kToken, kSession);
    CHECK(g.token_ok(kToken));
    CHECK_FALSE(g.token_ok(""));
    CHECK_FALSE(g.token_ok(kToken.substr(1)));
    CHECK_FALSE(g.token_ok(std::string(63, 'a') + "b"));
    CHECK(g.cookie_name() == "veil_session_4321");
    CHECK(g.cookie_ok("veil_session_4321=" + kSession));
    CHECK(g.cookie_ok("x=1; veil_session_4321=" + kSession + "; y=2"));
    CHECK_FALSE(g.cookie_ok("veil_session_4322=" + kSession));
    CHECK_FALSE(g.cookie_ok("veil_session_4321=" + kToken));
    CHECK_FALSE(g.cookie_ok("veil_session_4321="));
    CHECK_FALSE(g.cookie_ok(""));
    auto set = g.set_cookie();
    CHECK(set.find("HttpOnly") != std::string::npos);
    CHECK(set.find("SameSite=Strict") != std::string::npos);
    CHECK(set.rfind("veil_session_4321=" + kSession + ";", 0) == 0);
    CHECK(g.login_url() == "http://127.0.0.1:4321/login?token=" + kToken);
}

TEST_CASE("web - the content security policy allows no inline script and no other site", "[web]") {
    Gate g("127.0.0.1", 4321, kToken, kSession);
    auto csp = g.content_security_policy();
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("script-src 'self';") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(csp.find("unsafe-eval") == std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("ws://127.0.0.1:4321") != std::string::npos);
}

TEST_CASE("web - cookie values are found among others", "[web]") {
    CHECK(cookie_value("a=1; b=2", "b") == std::optional<std::string_view>("2"));
    CHECK(cookie_value("a=1;b=2 ", "b") == std::optional<std::string_view>("2"));
    CHECK(cookie_value("ab=1", "a") == std::nullopt);
    CHECK(cookie_value("a", "a") == std::nullopt);
    CHECK(cookie_value("", "a") == std::nullopt);
}

TEST_CASE("web - upload names cannot escape their directory", "[web]") {
    CHECK(safe_file_name("photo.jpg") == "photo.jpg");
    CHECK(safe_file_name("../../etc/passwd") == "passwd");
    CHECK(safe_file_name("..\\..\\x.png") == "x.png");
    CHECK(safe_file_name("..") == "file");
    CHECK(safe_file_name("") == "file");
    CHECK(safe_file_name("/") == "file");
    CHECK(safe_file_name(".hidden") == "hidden");
    CHECK(safe_file_name(std::string("a\nb\0c", 5)) == "a_b_c");
    auto long_name = safe_file_name(std::string(300, 'x') + ".jpeg");
    CHECK(long_name.size() <= 100);
    CHECK(long_name.substr(long_name.size() - 5) == ".jpeg");
}
