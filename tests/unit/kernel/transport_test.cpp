// Service request/response codec and the direct transport between two buses on one loop.
#include <catch2/catch.hpp>

#include <optional>

#include "direct_transport.hpp"
#include "support/loop.hpp"
#include "veil/sdk/log.hpp"

using namespace veil::sdk;
namespace tr = veil::sdk::transport;
using veil::test::TestLoop;

TEST_CASE("transport - service requests and responses round-trip; garbage is refused", "[kernel][transport]") {
    auto req = tr::encode_service_request("storage", {1, 2, 3});
    auto in = tr::decode_service_request(req, 100);
    REQUIRE(in.ok());
    CHECK(in.value().service == "storage");
    CHECK(in.value().body == tr::Bytes{1, 2, 3});
    CHECK_FALSE(tr::decode_service_request(req, 2).ok());  // body over the limit
    req.push_back(0);
    CHECK_FALSE(tr::decode_service_request(req, 100).ok());  // trailing byte
    CHECK_FALSE(tr::decode_service_request(tr::encode_service_request("", {}), 100).ok());
    CHECK_FALSE(tr::decode_service_request(tr::encode_service_request(std::string(65, 's'), {}), 100).ok());
    auto resp = tr::decode_service_response(tr::encode_service_response({tr::Status::unknown_service, {9}}), 10);
    REQUIRE(resp.ok());
    CHECK(resp.value().status == tr::Status::unknown_service);
    auto bad = tr::encode_service_response({tr::Status::ok, {}});
    bad[0] = 0;
    CHECK_FALSE(tr::decode_service_response(bad, 10).ok());
}

TEST_CASE("transport - direct carries a request to a service on another bus", "[kernel][transport]") {
    TestLoop loop;
    {
        Bus bus_a(loop.get()), bus_b(loop.get());
        auto log = log::get("direct-test");
        veil::direct::DirectTransport a(loop.get(), bus_a, {}, log), b(loop.get(), bus_b, {}, log);
        auto ep = b.listen({"127.0.0.1", 0});
        REQUIRE(ep.ok());
        auto srv = bus_b.serve<tr::Inbound>([](const tr::Inbound& in, Responder<tr::Response> r) {
            auto body = in.body;
            body.push_back('!');
            r.reply({tr::Status::ok, body});
        }, "shout");
        // Outcome of one send, flattened (no Result copies inside std::function).
        struct Outcome {
            bool done = false, ok = false;
            tr::Status status = tr::Status::error;
            tr::Bytes body;
            ErrorCode code = ErrorCode::internal;
        };
        auto record = [](Outcome& o) {
            return [&o](const Result<tr::Response>& r) {
                o.done = true;
                o.ok = r.ok();
                if (r.ok()) {
                    o.status = r.value().status;
                    o.body = r.value().body;
                } else {
                    o.code = r.error().code;
                }
            };
        };
        Outcome ok, unknown, unreachable;
        tr::Request req{{"00", ep.value().to_string()}, "shout", {'h', 'i'}, 5000};
        a.send(req, record(ok));
        req.service = "whisper";
        a.send(req, record(unknown));
        REQUIRE(loop.run_until([&] { return ok.done && unknown.done; }));
        b.close();
        REQUIRE(ok.ok);
        CHECK(std::string(ok.body.begin(), ok.body.end()) == "hi!");
        REQUIRE(unknown.ok);
        CHECK(unknown.status == tr::Status::unknown_service);
        veil::direct::DirectTransport c(loop.get(), bus_a, {}, log);
        c.send(req, record(unreachable));
        REQUIRE(loop.run_until([&] { return unreachable.done; }));
        CHECK_FALSE(unreachable.ok);
        CHECK(unreachable.code == ErrorCode::unreachable);
        a.close();
        c.close();
    }
    CHECK(loop.close() == 0);
}
