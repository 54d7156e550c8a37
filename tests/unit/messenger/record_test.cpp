#include <catch2/catch.hpp>

#include "record.hpp"

using namespace veil;
using namespace veil::messenger;

TEST_CASE("messenger - a message record keeps its local state through encode and decode", "[messenger]") {
    MessageRecord r;
    r.peer = crypto::Identity::generate().veil_id();
    r.from = r.peer;
    r.message = make_text("hi", 1000);
    r.delivery = DeliveryState::failed;
    r.read = true;
    r.received_at_ms = 1001;
    r.expires_at_ms = 3001;
    r.saved_path = "/home/x/attachments/a.jpg";
    r.error = "no such file";
    r.download_failures = 3;
    r.retry_at_ms = 9000;
    auto back = decode_record(encode(r));
    CHECK(back.peer == r.peer);
    CHECK(back.message == r.message);
    CHECK(back.delivery == DeliveryState::failed);
    CHECK(back.read);
    CHECK(back.received_at_ms == 1001);
    CHECK(back.expires_at_ms == 3001);
    CHECK(back.saved_path == r.saved_path);
    CHECK(back.error == r.error);
    CHECK(back.download_failures == 3);
    CHECK(back.retry_at_ms == 9000);
    auto bytes = encode(r);
    auto state = bytes;
    state[bytes.size() - (8 + 8 + 1 + 1 + 4 + r.saved_path.size() + 4 + r.error.size() + 1 + 4 + 8 + 1)] = 5;  // delivery
    CHECK_THROWS_AS(decode_record(state), wire::DecodeError);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_THROWS_AS(decode_record(wire::ByteView(bytes.data(), cut)), wire::DecodeError);
    }
}

TEST_CASE("messenger - records of one conversation share a prefix and sort by time", "[messenger]") {
    MessageRecord a, b, c;
    a.peer = b.peer = crypto::Identity::generate().veil_id();
    c.peer = crypto::Identity::generate().veil_id();
    a.message = make_text("first", 0x0100);
    b.message = make_text("second", 0x0200);
    c.message = make_text("other", 0x0150);
    auto prefix = conversation_prefix(a.peer);
    CHECK(record_key(a).starts_with(prefix));
    CHECK(record_key(b).starts_with(prefix));
    CHECK_FALSE(record_key(c).starts_with(prefix));
    CHECK(record_key(a) < record_key(b));
    CHECK(record_op(a).key == record_key(a));
}

TEST_CASE("messenger - a contact survives encode and decode; damaged ones are refused", "[messenger]") {
    ContactRecord c{crypto::Identity::generate().veil_id(), "Alice", false, true, 30};
    CHECK(decode_contact(encode(c)) == c);
    auto bytes = encode(c);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_THROWS_AS(decode_contact(wire::ByteView(bytes.data(), cut)), wire::DecodeError);
    }
    auto flag = bytes;
    flag[flag.size() - 5] = 2;  // blocked flag
    CHECK_THROWS_AS(decode_contact(flag), wire::DecodeError);
    c.name = std::string(kMaxContactNameBytes + 1, 'x');
    CHECK_THROWS_AS(decode_contact(encode(c)), wire::DecodeError);
    CHECK(contact_op(ContactRecord{}).key.starts_with(std::string(kContactPrefix)));
}

TEST_CASE("messenger - a request's attachment stays marked as awaiting acceptance, also from version 2",
          "[messenger]") {
    MessageRecord r;
    r.peer = crypto::Identity::generate().veil_id();
    r.from = r.peer;
    r.message = make_text("", 1000);
    r.error = std::string(kNotFetched);
    r.awaiting_accept = true;
    auto bytes = encode(r);
    CHECK(decode_record(bytes).awaiting_accept);
    bytes.resize(bytes.size() - 13);  // version 3: no retry fields, no group flag
    bytes.front() = 3;
    CHECK(decode_record(bytes).awaiting_accept);
    auto flag = bytes;
    flag.back() = 2;
    CHECK_THROWS_AS(decode_record(flag), wire::DecodeError);
    // Version 2 had no flag: the error sentence marked it.
    auto v2 = bytes;
    v2.front() = 2;
    v2.pop_back();
    CHECK(decode_record(v2).awaiting_accept);
    r.error = "the attachment could not be downloaded: timeout";
    auto failed = encode(r);
    failed.resize(failed.size() - 13);
    failed.front() = 2;
    failed.pop_back();
    CHECK_FALSE(decode_record(failed).awaiting_accept);
}

TEST_CASE("messenger - a group message record keeps its group and its own key prefix; a bad flag is refused",
          "[messenger]") {
    MessageRecord r;
    r.peer = crypto::Identity::generate().veil_id();
    r.from = r.peer;
    r.message = make_text("hi all", 1000);
    r.group.emplace();
    r.group->fill(0xab);
    auto bytes = encode(r);
    auto back = decode_record(bytes);
    REQUIRE(back.group);
    CHECK(*back.group == *r.group);
    CHECK(record_key(r).starts_with(conversation_prefix(*r.group)));
    CHECK_FALSE(record_key(r).starts_with(conversation_prefix(r.peer)));
    CHECK(conversation_prefix(*r.group).starts_with(std::string(kMessagePrefix)));  // loaded with the others
    auto flag = bytes;
    flag[bytes.size() - 33] = 2;
    CHECK_THROWS_AS(decode_record(flag), wire::DecodeError);
    r.group.reset();
    CHECK_FALSE(decode_record(encode(r)).group);
}
