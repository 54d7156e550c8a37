// The metrics text format and the endpoint's request reader (veil/sdk/metrics.hpp,
// metrics_http.hpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "veil/sdk/metrics.hpp"
#include "veil/sdk/metrics_http.hpp"

using namespace veil::sdk::metrics;

TEST_CASE("metrics - only a complete GET /metrics head is served", "[sdk]") {
    CHECK(read_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == Ask::metrics);
    CHECK(read_request("GET /metrics HTTP/1.0\n\n") == Ask::metrics);
    CHECK(read_request("GET /metrics HTTP/1.1\r\nHost: x\r\n") == Ask::need_more);
    CHECK(read_request("GET /metr") == Ask::need_more);
    // Refused as soon as the request line says so.
    CHECK(read_request("POST /metrics HTTP/1.1\r\n") == Ask::bad_method);
    CHECK(read_request("HEAD /metrics HTTP/1.1\r\n") == Ask::bad_method);
    CHECK(read_request("GET /metrics?x=1 HTTP/1.1\r\n") == Ask::not_found);
    CHECK(read_request("GET / HTTP/1.1\r\n") == Ask::not_found);
    CHECK(read_request("GET /metrics HTTP/2\r\n") == Ask::bad_request);
    CHECK(read_request("GET  /metrics HTTP/1.1\r\n") == Ask::bad_request);
    CHECK(read_request(std::string("GET /met\0rics HTTP/1.1\r\n", 24)) == Ask::bad_request);
    CHECK(read_request("\r\n") == Ask::bad_request);
}

TEST_CASE("metrics - a head that does not end within the bound is too large", "[sdk]") {
    std::string head = "GET /metrics HTTP/1.1\r\nX: " + std::string(kMaxRequestBytes, 'a');
    CHECK(read_request(head.substr(0, kMaxRequestBytes - 1)) == Ask::need_more);
    CHECK(read_request(head.substr(0, kMaxRequestBytes)) == Ask::too_large);
    CHECK(read_request(std::string(kMaxRequestBytes, 'G')) == Ask::too_large);  // no line end at all
}

TEST_CASE("metrics - the text format reads back what it wrote", "[sdk]") {
    std::vector<Family> fs{
        {"veil_x_total", "things\\done\nlines", Kind::counter,
         {{{{"reason", "a\"b\\c\nd"}}, 3}, {{{"reason", "e"}, {"kind", "f"}}, 0}}},
        {"veil_level", "a level", Kind::gauge, {{{}, 2.5}, {{}, NAN}, {{}, INFINITY}}},
    };
    auto text = render(fs);
    CHECK(text.find("# TYPE veil_x_total counter\n") != std::string::npos);
    CHECK(text.find("# TYPE veil_level gauge\n") != std::string::npos);
    CHECK(text.find("# HELP veil_x_total things\\\\done\\nlines\n") != std::string::npos);
    CHECK(text.find("veil_x_total{reason=\"e\",kind=\"f\"} 0\n") != std::string::npos);
    auto rs = parse(text);
    REQUIRE(rs);
    REQUIRE(rs.value().size() == 5);
    CHECK(rs.value()[0].labels.front().second == "a\"b\\c\nd");
    CHECK(rs.value()[0].value == 3);
    CHECK(rs.value()[1].labels.size() == 2);
    CHECK(rs.value()[2].value == 2.5);
    CHECK(rs.value()[2].labels.empty());
    CHECK(std::isnan(rs.value()[3].value));
    CHECK(std::isinf(rs.value()[4].value));
}

TEST_CASE("metrics - lines that are not samples are refused, naming the line", "[sdk]") {
    for (const char* bad : {"1abc 2", "x{a=\"1\" 2", "x{a=1} 2", "x 2z", "x", "x{a=\"\\q\"} 1", "x{=\"1\"} 1", "x  ", "x{a=\"1\"b=\"2\"} 1"}) {
        auto r = parse(std::string("# ok\nfine 1\n") + bad + "\n");
        INFO(bad);
        REQUIRE(!r);
        CHECK(r.error().message.find("line 3") != std::string::npos);
    }
    std::string many;
    for (std::size_t i = 0; i <= kMaxReadings; ++i) many += "x 1\n";
    CHECK(!parse(many));
}
