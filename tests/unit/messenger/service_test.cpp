// Service's read and publish rules wired to the bus, against a fake swarm of three members
// served on the network plugin's contracts (veil/sdk/network.hpp, veil/sdk/swarm.hpp), on the
// SDK's test harness: no process, no socket, an injected clock for the time cut-off.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <map>

#include <catch2/catch.hpp>

#include "service.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/swarm.hpp"
#include "veil/sdk/testing.hpp"

using namespace veil;
using namespace veil::messenger;
namespace sw = sdk::swarm;
namespace node = proto::node;

namespace {

constexpr std::size_t kMembers = 3;

node::Hash hash_of(const wire::Bytes& data) {
    node::Hash h{};
    crypto_generichash(h.data(), h.size(), data.data(), data.size(), nullptr, 0);
    return h;
}

node::Response ok(node::ResponseBody body) {
    node::Response r;
    r.body = std::move(body);
    return r;
}

// Three members of one swarm. Each holds its own public items per namespace; `pages` counts the
// public pages each was asked for. A member `down` fails every request.
class FakeSwarm final : public sdk::Plugin {
public:
    FakeSwarm() {
        auto m = std::make_shared<proto::Manifest>();
        m->version = 1;
        m->test_network = true;
        for (std::size_t i = 0; i < kMembers; ++i) {
            proto::NodeEntry e;
            randombytes_buf(e.ed25519.data(), e.ed25519.size());
            randombytes_buf(e.x25519.data(), e.x25519.size());
            e.host = "127.0.0.1";
            e.port = static_cast<std::uint16_t>(20000 + i);
            e.swarm = 1;
            m->nodes.push_back(e);
        }
        std::sort(m->nodes.begin(), m->nodes.end(), [](const auto& a, const auto& b) { return a.ed25519 < b.ed25519; });
        manifest = m;
    }
    void start(sdk::Context& ctx) override {
        ctx.serve<sdk::network::GetManifest>([this](const sdk::network::GetManifest&,
                                                    sdk::Responder<sdk::network::ManifestReply> r) {
            r.reply({manifest->version, manifest, {}});
        });
        ctx.serve<sw::ToNode>([this](const sw::ToNode& q, sdk::Responder<node::Response> r) {
            auto i = index_of(q.node.ed25519);
            if (down[i] || refuses_read(i, q.body)) return r.fail(sdk::ErrorCode::unreachable, "member down");
            r.reply(answer(i, q.body));
        });
        ctx.serve<sw::ToEveryMember>([this](const sw::ToEveryMember& q, sdk::Responder<sw::MemberAnswers> r) {
            sw::MemberAnswers out;
            for (std::size_t i = 0; i < kMembers; ++i) {
                if (!down[i] && !refuses_read(i, q.body)) out.answers.push_back(answer(i, q.body));
            }
            if (out.answers.empty()) return r.fail(sdk::ErrorCode::unreachable, "every member down");
            r.reply(std::move(out));
        });
    }
    void stop() override {}

    std::size_t index_of(const proto::PublicKey& key) const {
        for (std::size_t i = 0; i < kMembers; ++i) {
            if (manifest->nodes[i].ed25519 == key) return i;
        }
        FAIL("not a member");
        return 0;
    }
    void hold(std::size_t member, std::uint16_t ns, wire::Bytes data) {
        held[member][ns].push_back({hash_of(data), 0, std::move(data)});
    }

    std::shared_ptr<const proto::Manifest> manifest;
    std::array<std::map<std::uint16_t, std::vector<node::MessageItem>>, kMembers> held;
    std::array<bool, kMembers> down{};
    /// A member that fails every read (retrieve) but takes stores.
    std::array<bool, kMembers> reads_down{};
    std::array<std::size_t, kMembers> pages{};
    /// When set, a member serves one new item a page for ever ("more"), and this runs per page.
    std::function<void()> endless;
    std::vector<node::StoreRequest> stored;

private:
    bool refuses_read(std::size_t i, const node::RequestBody& body) const {
        return reads_down[i] && std::holds_alternative<node::RetrieveRequest>(body);
    }
    node::Response answer(std::size_t i, const node::RequestBody& body) {
        if (const auto* q = std::get_if<node::RetrieveRequest>(&body)) {
            ++pages[i];
            if (endless) {
                endless();
                wire::Bytes junk(8);
                randombytes_buf(junk.data(), junk.size());
                return ok(node::PageResponse{{{hash_of(junk), 0, junk}}, true});
            }
            return ok(node::PageResponse{held[i][q->ns], false});
        }
        if (const auto* s = std::get_if<node::StoreRequest>(&body)) {
            if (i == 0) stored.push_back(*s);
            held[i][s->ns].push_back({hash_of(s->data), 0, s->data});
            return ok(node::StoreResponse{hash_of(s->data), true, 0});
        }
        return ok(node::HashesResponse{});
    }
};

// Holds the Service under test, made with the test's clock.
class ServiceHost final : public sdk::Plugin {
public:
    explicit ServiceHost(Service::Clock clock) : clock_(std::move(clock)) {}
    void start(sdk::Context& ctx) override { service = std::make_unique<Service>(ctx, clock_); }
    void stop() override { service.reset(); }
    std::unique_ptr<Service> service;

private:
    Service::Clock clock_;
};

struct Rig {
    std::uint64_t clock_ms = sdk::now_ms();
    FakeSwarm swarm;
    ServiceHost host{[this] { return clock_ms; }};
    sdk::testing::Harness h;
    Rig() {
        h.start(swarm, "fake-swarm");
        h.start(host, "messenger");
    }
    ~Rig() { CHECK(h.close() == 0); }
    Service& service() { return *host.service; }

    struct Read {
        std::optional<crypto::DeviceList> list;
        std::optional<sdk::Error> error;
    };
    Read fetch_list(const crypto::VeilId& who) {
        Read out;
        bool finished = false;
        service().fetch_device_list(who, [&](crypto::DeviceList l) { out.list = std::move(l); finished = true; },
                                    [&](const sdk::Error& e) { out.error = e; finished = true; });
        REQUIRE(h.run_until([&] { return finished; }, 5'000));
        return out;
    }
};

struct Person {
    crypto::Identity identity = crypto::Identity::generate();
    crypto::DeviceKeys phone = crypto::DeviceKeys::generate();
    std::uint64_t now = sdk::now_ms();
    crypto::DeviceList v1 = crypto::DeviceList{}.with_device(identity, phone, now, now);
    crypto::DeviceList v2 = v1.with_device(identity, crypto::DeviceKeys::generate(), now);
    const crypto::VeilId& id() const { return identity.veil_id(); }
};

}  // namespace

TEST_CASE("messenger service - a list read asks every member: the newest list wins even on one member",
          "[messenger]") {
    Rig rig;
    Person bob;
    // Replication has not reached them all: one member holds the new list, one the old, one nothing.
    rig.swarm.hold(0, kDeviceListNamespace, bob.v1.encode());
    rig.swarm.hold(2, kDeviceListNamespace, bob.v2.encode());
    auto read = rig.fetch_list(bob.id());
    REQUIRE(read.list);
    CHECK(read.list->version() == bob.v2.version());
    for (std::size_t i = 0; i < kMembers; ++i) CHECK(rig.swarm.pages[i] == 1);
}

TEST_CASE("messenger service - a member paging for ever is left after 20 s of the read", "[messenger]") {
    Rig rig;
    Person bob;
    // Every page takes 3 s: by the 20 s cut-off a member has given 7 pages, far below the 16 a
    // member may be asked for.
    rig.swarm.endless = [&rig] { rig.clock_ms += 3'000; };
    auto read = rig.fetch_list(bob.id());
    REQUIRE(read.error);  // nothing but junk: no list, and no member gave a complete read
    CHECK(read.error->code == sdk::ErrorCode::unreachable);
    std::size_t asked = rig.swarm.pages[0] + rig.swarm.pages[1] + rig.swarm.pages[2];
    CHECK(asked >= kMembers);
    CHECK(asked <= 20'000 / 3'000 + kMembers);
    CHECK(asked < kMaxPublicPages);
}

TEST_CASE("messenger service - only lists from the future read: a clock error, not no list", "[messenger]") {
    Rig rig;
    Person bob;
    // Signed three days ahead of this clock, on every member.
    auto ahead = crypto::DeviceList{}.with_device(bob.identity, bob.phone, bob.now, bob.now + 72ULL * 3600 * 1000);
    for (std::size_t i = 0; i < kMembers; ++i) rig.swarm.hold(i, kDeviceListNamespace, ahead.encode());
    auto read = rig.fetch_list(bob.id());
    REQUIRE(read.error);
    CHECK(read.error->code == sdk::ErrorCode::refused);
    CHECK_THAT(read.error->message, Catch::Contains("signed 72 h ahead of this clock; check the clock"));
    // With an honest list beside it, that one is read.
    rig.swarm.hold(1, kDeviceListNamespace, bob.v1.encode());
    auto again = rig.fetch_list(bob.id());
    REQUIRE(again.list);
    CHECK(again.list->version() == bob.v1.version());
}

TEST_CASE("messenger service - a publish joins the forked list the swarm holds instead of overwriting it",
          "[messenger]") {
    Rig rig;
    auto phone = std::make_shared<Account>(Account::create(crypto::Identity::generate(), std::nullopt, rig.clock_ms));
    const std::string phrase{phone->identity().recovery_phrase().str()};
    auto tablet = Account::create(crypto::Identity::from_phrase(phrase), phone->device_list(), rig.clock_ms);
    auto laptop = Account::create(crypto::Identity::from_phrase(phrase), tablet.device_list(), rig.clock_ms);
    phone->adopt_device_list(laptop.device_list());
    // The laptop revokes the tablet and publishes; the phone, on its old copy, adds a watch.
    laptop.revoke_device(tablet.device().signing_key(), rig.clock_ms);
    for (std::size_t i = 0; i < kMembers; ++i) rig.swarm.hold(i, kDeviceListNamespace, laptop.device_list().encode());
    auto watch = Account::create(crypto::Identity::from_phrase(phrase), phone->device_list(), rig.clock_ms);
    phone->adopt_device_list(watch.device_list());
    REQUIRE(phone->device_list().version() == laptop.device_list().version());

    std::optional<Holders> holders;
    rig.service().publish(phone, [&](Holders h) { holders = h; }, [](const sdk::Error& e) { FAIL(e.message); });
    REQUIRE(rig.h.run_until([&] { return holders.has_value(); }, 5'000));
    CHECK(holders->settled());
    std::optional<crypto::DeviceList> published;
    for (const auto& s : rig.swarm.stored) {
        if (s.ns == kDeviceListNamespace) published = crypto::DeviceList::decode(s.data);
    }
    REQUIRE(published);
    CHECK(published->version() == laptop.device_list().version() + 1);
    CHECK_FALSE(published->is_active(tablet.device().signing_key()));
    CHECK(published->is_active(watch.device().signing_key()));
    CHECK(published->is_active(laptop.device().signing_key()));
}

// Issue 14 second review: the join before a publish read from one member of three may miss a
// fork the others hold; the publish is stored but stays due (unsettled) until most members read.
TEST_CASE("messenger service - a publish whose list read most members did not complete stays due", "[messenger]") {
    Rig rig;
    auto phone = std::make_shared<Account>(Account::create(crypto::Identity::generate(), std::nullopt, rig.clock_ms));
    rig.swarm.reads_down[1] = rig.swarm.reads_down[2] = true;
    auto publish = [&] {
        std::optional<Holders> holders;
        rig.service().publish(phone, [&](Holders h) { holders = h; }, [](const sdk::Error& e) { FAIL(e.message); });
        REQUIRE(rig.h.run_until([&] { return holders.has_value(); }, 5'000));
        return *holders;
    };
    auto first = publish();
    CHECK_FALSE(first.read_complete);
    CHECK_FALSE(first.settled());
    CHECK(phone->needs_publish(rig.clock_ms));
    rig.swarm.reads_down[2] = false;  // two of three complete: most members
    auto second = publish();
    CHECK(second.settled());
    CHECK_FALSE(phone->needs_publish(rig.clock_ms));
}
