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
    flag[flag.size() - 9] = 2;  // the sync_peer flag, before the u64 seq
    CHECK_THROWS_AS(decode_chat(flag), wire::DecodeError);
}

TEST_CASE("messenger - text over the limit is refused on both sides", "[messenger]") {
    CHECK_THROWS_AS(make_text(std::string(kMaxTextBytes + 1, 'x'), 1), std::invalid_argument);
    auto m = make_text(std::string(kMaxTextBytes, 'x'), 1);
    m.text.push_back('x');
    CHECK_THROWS_AS(decode_chat(encode(m)), wire::DecodeError);
}

namespace {
ChatMessage with_file() {
    auto m = make_text("a caption", 7);
    m.kind = ChatKind::attachment;
    sdk::attachment::AttachmentRef a;
    a.id.fill(1);
    a.key.fill(2);
    a.digest.fill(3);
    a.size_bytes = 12345;
    a.mime_type = "image/jpeg";
    a.file_name = "holiday.jpg";
    m.attachment = a;
    m.disappear_after_s = 30;
    return m;
}
}  // namespace

TEST_CASE("messenger - an attachment message and a timer change survive encode and decode", "[messenger]") {
    auto m = with_file();
    auto back = decode_chat(encode(m));
    CHECK(back == m);
    REQUIRE(back.attachment);
    CHECK(back.attachment->file_name == "holiday.jpg");
    CHECK(back.attachment->size_bytes == 12345);
    auto t = make_text("", 9);
    t.kind = ChatKind::timer;
    t.disappear_after_s = 3600;
    CHECK(decode_chat(encode(t)) == t);
}

TEST_CASE("messenger - attachment refs that could write elsewhere, and malformed v2 fields, are refused",
          "[messenger]") {
    for (const char* bad : {"../etc/passwd", "a/b", ".", ".."}) {
        auto m = with_file();
        m.attachment->file_name = bad;
        CHECK_THROWS_AS(decode_chat(encode(m)), wire::DecodeError);
    }
    auto t = make_text("a timer carries no text", 9);
    t.kind = ChatKind::timer;
    CHECK_THROWS_AS(decode_chat(encode(t)), wire::DecodeError);
    auto long_timer = make_text("x", 9);
    long_timer.disappear_after_s = kMaxDisappearS + 1;
    CHECK_THROWS_AS(decode_chat(encode(long_timer)), wire::DecodeError);
    auto bytes = encode(with_file());
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_THROWS_AS(decode_chat(wire::ByteView(bytes.data(), cut)), wire::DecodeError);
    }
    auto kind = encode(make_text("x", 1));
    kind[1] = 4;
    CHECK_THROWS_AS(decode_chat(kind), wire::DecodeError);
}

TEST_CASE("messenger - the sender's sequence number survives encode and decode; version 2 is read with none",
          "[messenger]") {
    auto m = make_text("third", 12);
    m.seq = 3;
    CHECK(decode_chat(encode(m)).seq == 3);
    CHECK(decode_chat(encode(m)) == m);
    wire::Writer w;  // version 2: no seq after the sync_peer flag
    w.u8(2).u8(1).raw(m.id).u64(m.sent_at_ms).str(m.text).u32(0).u8(0);
    auto old = decode_chat(w.bytes());
    CHECK(old.seq == 0);
    CHECK(old.text == "third");
}

TEST_CASE("messenger - version 1 messages (text only) are still read", "[messenger]") {
    auto m = make_text("old", 11);
    wire::Writer w;
    w.u8(1).u8(1).raw(m.id).u64(m.sent_at_ms).str(m.text).u8(0);
    CHECK(decode_chat(w.bytes()) == m);
    wire::Writer bad;  // version 1 knew no other kind
    bad.u8(1).u8(2).raw(m.id).u64(m.sent_at_ms).str(m.text).u8(0);
    CHECK_THROWS_AS(decode_chat(bad.bytes()), wire::DecodeError);
}

TEST_CASE("messenger - a contact change for own devices survives encode and decode; malformed ones are refused",
          "[messenger]") {
    auto m = make_text("Alice", 5);
    m.kind = ChatKind::contact;
    m.contact_flags = kContactAccepted | kContactBlocked;
    m.disappear_after_s = 60;
    m.sync_peer = crypto::Identity::generate().veil_id();
    CHECK(decode_chat(encode(m)) == m);
    auto no_peer = m;
    no_peer.sync_peer.reset();
    CHECK_THROWS_AS(decode_chat(encode(no_peer)), wire::DecodeError);
    auto flags = m;
    flags.contact_flags = 4;
    CHECK_THROWS_AS(decode_chat(encode(flags)), wire::DecodeError);
    auto name = m;
    name.text = std::string(kMaxContactNameBytes + 1, 'n');
    CHECK_THROWS_AS(decode_chat(encode(name)), wire::DecodeError);
}

TEST_CASE("messenger - a group control survives encode and decode; one with text or too large is refused",
          "[messenger]") {
    ChatMessage m;
    m.kind = ChatKind::group_control;
    m.sent_at_ms = 9;
    m.group_control = wire::Bytes{1, 2, 3, 4};
    CHECK(decode_chat(encode(m)) == m);
    auto texted = m;
    texted.text = "shown?";
    CHECK_THROWS_AS(decode_chat(encode(texted)), wire::DecodeError);
    auto big = m;
    big.group_control.assign(kMaxGroupControlBytes + 1, 7);
    CHECK_THROWS_AS(decode_chat(encode(big)), wire::DecodeError);
    auto leave = m;
    leave.kind = ChatKind::group_leave;
    leave.group_control.assign(64, 3);  // a group ID and a state digest
    CHECK(decode_chat(encode(leave)) == leave);
    leave.group_control.resize(32);
    CHECK_THROWS_AS(decode_chat(encode(leave)), wire::DecodeError);
    auto unknown = encode(m);
    unknown[1] = 7;  // the kind after group_leave
    CHECK_THROWS_AS(decode_chat(unknown), wire::DecodeError);
}

TEST_CASE("messenger - a summary prefix is cut on a UTF-8 character boundary", "[messenger]") {
    CHECK(utf8_prefix("hello", 200) == "hello");
    CHECK(utf8_prefix("hello", 3) == "hel");
    CHECK(utf8_prefix("", 0).empty());
    const std::string euro = "\xE2\x82\xAC";  // three bytes
    std::string text = "ab" + euro + "cd";
    CHECK(utf8_prefix(text, 2) == "ab");
    CHECK(utf8_prefix(text, 3) == "ab");
    CHECK(utf8_prefix(text, 4) == "ab");
    CHECK(utf8_prefix(text, 5) == "ab" + euro);
    std::string long_text;
    for (int i = 0; i < 100; ++i) long_text += euro;  // 300 bytes
    auto cut = utf8_prefix(long_text, 200);
    CHECK(cut.size() == 198);
    CHECK(cut == long_text.substr(0, 198));
}
