#include <catch2/catch.hpp>

#include "veil/wire/codec.hpp"

using namespace veil::wire;

TEST_CASE("wire - integers and fields round-trip", "[crypto][wire]") {
    Bytes key{1, 2, 3};
    auto bytes = Writer{}.u8(7).u16(0x1234).u32(0xdeadbeef).u64(0x0102030405060708ULL).var(key).str("hi").take();
    Reader r(bytes);
    CHECK(r.u8() == 7);
    CHECK(r.u16() == 0x1234);
    CHECK(r.u32() == 0xdeadbeef);
    CHECK(r.u64() == 0x0102030405060708ULL);
    auto k = r.var(3);
    CHECK(Bytes(k.begin(), k.end()) == key);
    CHECK(r.str(16) == "hi");
    CHECK_NOTHROW(r.expect_done());
}

TEST_CASE("wire - truncation, over-limit lengths and trailing bytes are errors", "[crypto][wire]") {
    auto bytes = Writer{}.var(Bytes(10, 0xaa)).take();
    CHECK_THROWS_AS(Reader(bytes).var(9), DecodeError);
    bytes.pop_back();
    CHECK_THROWS_AS(Reader(bytes).var(10), DecodeError);
    Bytes two{0, 0};
    Reader r(two);
    r.u8();
    CHECK_THROWS_AS(r.expect_done(), DecodeError);
    CHECK_THROWS_AS(r.u16(), DecodeError);
}

TEST_CASE("wire - hex", "[crypto][wire]") {
    CHECK(to_hex(Bytes{0x05, 0xab}) == "05ab");
    CHECK(from_hex("05AB") == Bytes{0x05, 0xab});
    CHECK_THROWS_AS(from_hex("abc"), DecodeError);
    CHECK_THROWS_AS(from_hex("zz"), DecodeError);
}
