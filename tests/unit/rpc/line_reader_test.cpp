// Newline framing: lines split across reads, CRLF, blank lines, and over-long lines reported
// once and skipped without holding them in memory.
#include <catch2/catch.hpp>

#include <string>

#include "line_reader.hpp"

using veil::rpc::LineReader;

TEST_CASE("rpc - a line split across reads comes out whole, CRLF and blank lines handled", "[rpc]") {
    LineReader r(100);
    r.feed("{\"a\":");
    CHECK_FALSE(r.next());
    r.feed("1}\r\n\n  \r\n{\"b\":2}\n{\"c\"");
    auto l1 = r.next();
    REQUIRE(l1);
    CHECK(l1->text == "{\"a\":1}");
    CHECK_FALSE(l1->too_long);
    auto l2 = r.next();
    REQUIRE(l2);
    CHECK(l2->text == "{\"b\":2}");
    CHECK_FALSE(r.next());
    r.feed(":3}\n");
    auto l3 = r.next();
    REQUIRE(l3);
    CHECK(l3->text == "{\"c\":3}");
    CHECK_FALSE(r.next());
}

TEST_CASE("rpc - an over-long line is reported once, skipped, and the next line still framed", "[rpc]") {
    LineReader r(10);
    r.feed("0123456789ABCDEF\nok\n");
    auto t = r.next();
    REQUIRE(t);
    CHECK(t->too_long);
    CHECK(t->text.empty());
    auto ok = r.next();
    REQUIRE(ok);
    CHECK(ok->text == "ok");
    CHECK_FALSE(r.next());
}

TEST_CASE("rpc - an over-long line arriving in pieces is never buffered whole", "[rpc]") {
    LineReader r(10);
    r.feed("0123456789AB");
    auto t = r.next();
    REQUIRE(t);
    CHECK(t->too_long);
    CHECK(r.buffered() == 0);
    r.feed(std::string(1000, 'x'));
    CHECK_FALSE(r.next());
    CHECK(r.buffered() == 0);
    r.feed("yyy\nok\n");
    auto ok = r.next();
    REQUIRE(ok);
    CHECK(ok->text == "ok");
    CHECK_FALSE(r.next());
}

TEST_CASE("rpc - a line of exactly the limit is accepted", "[rpc]") {
    LineReader r(5);
    r.feed("abcde\nabcdef\n");
    auto a = r.next();
    REQUIRE(a);
    CHECK(a->text == "abcde");
    auto b = r.next();
    REQUIRE(b);
    CHECK(b->too_long);
}
