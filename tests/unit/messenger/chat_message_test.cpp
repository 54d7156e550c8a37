#include <catch2/catch.hpp>

#include "chat_message.hpp"

using namespace veil;
using namespace veil::messenger;

TEST_CASE("messenger - a chat message survives encode and decode", "[messenger]") {
    auto m = make_text("hello, Bob", 1'700'000'000'123);
    CHECK(decode_chat(encode(m)) == m);
    m.sync_peer = crypto::Identity::generate().veil_id();
    CHECK(decode_chat(encode(m)) == m);
    auto n = make_text("hello, Bob", 1);
    CHECK(n.id != m.id);
}

TEST_CASE("messenger - a damaged chat message is refused", "[messenger]") {
    auto bytes = encode(make_text("some text", 5));
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_THROWS_AS(decode_chat(wire::ByteView(bytes.data(), cut)), wire::DecodeError);
    }
    auto trailing = bytes;
    trailing.push_back(0);
    CHECK_THROWS_AS(decode_chat(trailing), wire::DecodeError);
    auto version = bytes;
    version[0] = 9;
    CHECK_THROWS_AS(decode_chat(version), wire::DecodeError);
    auto kind = bytes;
    kind[1] = 0;
    CHECK_THROWS_AS(decode_chat(kind), wire::DecodeError);
    auto flag = bytes;
    flag.back() = 2;
    CHECK_THROWS_AS(decode_chat(flag), wire::DecodeError);
}

TEST_CASE("messenger - text over the limit is refused on both sides", "[messenger]") {
    CHECK_THROWS_AS(make_text(std::string(kMaxTextBytes + 1, 'x'), 1), std::invalid_argument);
    auto m = make_text(std::string(kMaxTextBytes, 'x'), 1);
    m.text.push_back('x');
    CHECK_THROWS_AS(decode_chat(encode(m)), wire::DecodeError);
}
