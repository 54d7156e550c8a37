// JSON-RPC 2.0 shapes: what a line parses into, and the standard error objects for every kind
// of malformed input (the examples of the specification's section 7).
#include <catch2/catch.hpp>

#include "jsonrpc.hpp"

using namespace veil::rpc;

namespace {

const json& error_of(const Parsed& p, std::size_t i = 0) {
    REQUIRE(i < p.entries.size());
    REQUIRE(std::holds_alternative<json>(p.entries[i]));
    return std::get<json>(p.entries[i]);
}

}  // namespace

TEST_CASE("rpc - a request, a notification and named params parse into calls", "[rpc]") {
    auto p = parse_line(R"({"jsonrpc":"2.0","method":"send","params":{"to":"x","text":"hi"},"id":7})", 10);
    CHECK_FALSE(p.batch);
    REQUIRE(p.entries.size() == 1);
    const auto& c = std::get<Call>(p.entries[0]);
    CHECK(c.method == "send");
    CHECK(c.id == 7);
    CHECK_FALSE(c.notification);
    CHECK(c.params["text"] == "hi");

    auto n = parse_line(R"({"jsonrpc":"2.0","method":"profile"})", 10);
    const auto& nc = std::get<Call>(n.entries[0]);
    CHECK(nc.notification);
    CHECK(nc.params.is_null());

    auto s = parse_line(R"({"jsonrpc":"2.0","method":"profile","id":"abc"})", 10);
    CHECK(std::get<Call>(s.entries[0]).id == "abc");
    auto nul = parse_line(R"({"jsonrpc":"2.0","method":"profile","id":null})", 10);
    CHECK_FALSE(std::get<Call>(nul.entries[0]).notification);  // id null is a request, not a notification
}

TEST_CASE("rpc - malformed JSON is a parse error with a null id", "[rpc]") {
    for (const char* line : {R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])", "{", "nul", "\xff\xfe",
                             R"(["a")"}) {
        auto p = parse_line(line, 10);
        const auto& e = error_of(p);
        CHECK(e["error"]["code"] == code::parse_error);
        CHECK(e["id"].is_null());
        CHECK(e["jsonrpc"] == "2.0");
    }
}

TEST_CASE("rpc - invalid requests get -32600, echoing the id only when it is valid", "[rpc]") {
    struct Case {
        const char* line;
        json id;
    };
    for (const auto& c : {Case{R"({"jsonrpc":"2.0","method":1,"params":"bar","id":3})", 3},
                          Case{R"({"jsonrpc":"1.0","method":"profile","id":4})", 4},
                          Case{R"({"method":"profile","id":5})", 5},
                          Case{R"({"jsonrpc":"2.0","method":"profile","params":"x","id":6})", 6},
                          Case{R"({"jsonrpc":"2.0","method":"profile","id":{"a":1}})", nullptr},
                          Case{R"({"jsonrpc":"2.0","method":"profile","id":[1]})", nullptr},
                          Case{R"({"jsonrpc":"2.0","method":"profile","extra":1,"id":8})", 8},
                          Case{"1", nullptr},
                          Case{R"("text")", nullptr}}) {
        INFO(c.line);
        auto p = parse_line(c.line, 10);
        const auto& e = error_of(p);
        CHECK(e["error"]["code"] == code::invalid_request);
        CHECK(e["id"] == c.id);
    }
}

TEST_CASE("rpc - batches: empty, mixed, and over the limit", "[rpc]") {
    auto empty = parse_line("[]", 10);
    CHECK_FALSE(empty.batch);
    CHECK(error_of(empty)["error"]["code"] == code::invalid_request);

    auto ones = parse_line("[1,2,3]", 10);
    CHECK(ones.batch);
    REQUIRE(ones.entries.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(error_of(ones, i)["error"]["code"] == code::invalid_request);

    auto mixed = parse_line(R"([{"jsonrpc":"2.0","method":"profile","id":1},{"foo":"boo"},{"jsonrpc":"2.0","method":"x"}])", 10);
    CHECK(mixed.batch);
    REQUIRE(mixed.entries.size() == 3);
    CHECK(std::holds_alternative<Call>(mixed.entries[0]));
    CHECK(error_of(mixed, 1)["error"]["code"] == code::invalid_request);
    CHECK(std::get<Call>(mixed.entries[2]).notification);

    auto big = parse_line("[1,2,3,4]", 3);
    CHECK_FALSE(big.batch);
    REQUIRE(big.entries.size() == 1);
    CHECK(error_of(big)["error"]["code"] == code::invalid_request);
}

TEST_CASE("rpc - responses are single lines, even with invalid UTF-8 in a string", "[rpc]") {
    auto line = to_line(result_response(1, json{{"text", std::string("a\nb\xff")}}));
    CHECK(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    auto back = json::parse(line);
    CHECK(back["result"]["text"] == "a\nb\xEF\xBF\xBD");
    auto err = error_response("q", {code::invalid_params, "bad", json{{"kind", "x"}}});
    CHECK(err["error"]["data"]["kind"] == "x");
    CHECK(err["id"] == "q");
    CHECK_FALSE(error_response(1, {code::internal_error, "m", {}})["error"].contains("data"));
}

TEST_CASE("rpc - JSON nested deeper than 64 is a parse error; 64 levels parse", "[rpc]") {
    const auto nested = [](std::size_t levels) {  // a request (one level) whose params hold `levels - 1` arrays
        return R"({"jsonrpc":"2.0","method":"m","id":1,"params":)" + std::string(levels - 1, '[') +
               std::string(levels - 1, ']') + "}";
    };
    auto ok = parse_line(nested(64), 10);
    REQUIRE(ok.entries.size() == 1);
    CHECK(std::holds_alternative<Call>(ok.entries[0]));
    for (std::size_t levels : {65u, 500000u}) {
        auto p = parse_line(nested(levels), 10);
        CHECK(error_of(p)["error"]["code"] == code::parse_error);
        CHECK(error_of(p)["id"].is_null());
    }
}
