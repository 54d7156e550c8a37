// After its first bootstrap a client fetches the manifest through the onion: over several
// refresh periods it opens no connection to any node but its guard (issue 14 item 4). Counted
// in this process: every TCP connection it opens goes through connect(), interposed below.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <set>

#include "onion_rig.hpp"
#include "support/testnet_fixture.hpp"

using namespace veil;
using veil::test::Testnet;
namespace tr = sdk::transport;

namespace {

// Connections this process opened, by destination port (loop thread only, like libuv's calls).
std::map<std::uint16_t, int>& connects() {
    static std::map<std::uint16_t, int> counts;
    return counts;
}

}  // namespace

// Every connect() of this process (libuv's too) passes here before the C library's.
extern "C" int connect(int fd, const struct sockaddr* address, socklen_t length) {
    using Connect = int (*)(int, const struct sockaddr*, socklen_t);
    static const auto real = reinterpret_cast<Connect>(dlsym(RTLD_NEXT, "connect"));
    if (address != nullptr && address->sa_family == AF_INET) {
        ++connects()[ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port)];
    }
    return real(fd, address, length);
}

TEST_CASE("onion - a client refreshing its manifest for several periods connects to no node but its guard",
          "[onion][integration]") {
    Testnet net(9, 3);
    test::OnionRig rig(net.dir());  // the first bootstrap: straight to a seed
    auto& source = rig.source();
    REQUIRE(source.stats().direct >= 1);
    REQUIRE_FALSE(connects().empty());  // the counter sees this process's connections
    const auto direct_after_bootstrap = source.stats().direct;
    connects().clear();
    source.set_transport([&rig](tr::Request request, std::function<void(sdk::Result<tr::Response>)> done) {
        rig.client().send(request, std::move(done));
    });

    constexpr int kPeriods = 6;
    for (int period = 0; period < kPeriods; ++period) {
        std::optional<bool> refreshed;
        source.refresh([&](bool ok) { refreshed = ok; });
        rig.run_until([&] { return refreshed.has_value(); });
        CHECK(*refreshed);
    }
    CHECK(source.stats().direct == direct_after_bootstrap);
    CHECK(source.stats().through_transport >= kPeriods);
    REQUIRE(rig.client().guard().has_value());
    std::uint16_t guard_port = 0;
    for (const auto& n : rig.manifest().nodes) {
        if (n.ed25519 == rig.client().guard()->node_id) guard_port = n.port;
    }
    REQUIRE(guard_port != 0);
    INFO("attempts " << rig.client().stats().attempts << " requests " << rig.client().stats().requests);
    std::string listed;
    for (const auto& n : rig.manifest().nodes) listed += std::to_string(n.port) + " ";
    INFO("listed ports " << listed);
    std::set<std::uint16_t> ports;
    for (const auto& [port, count] : connects()) ports.insert(port);
    CHECK(ports == std::set<std::uint16_t>{guard_port});
}
