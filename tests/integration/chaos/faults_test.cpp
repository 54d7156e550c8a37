// Faults of a `--hosts` test network (plugins/directory/testnet_faults.hpp): `veil testnet
// kill|restart|cut|heal`, a node's clock off through libfaketime, an authority down, and a node's
// data directory on a full file system. Each fault is checked from outside, over real sockets.
#include <catch2/catch.hpp>

#include <sys/mount.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "support/hosts_testnet.hpp"
#include "support/node_rpc.hpp"

using namespace veil::test;
using namespace veil::proto::node;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kNodePort = 7800;

// One node's RPC: the node at `name`'s address (a NodeRpc keeps one client per port, and every
// node of a hosts network listens on the same port).
struct NodeAt {
    NodeRpc rpc;
    NodeAt(const HostsTestnet& net, const std::string& name) { rpc.host = net.address_of(name); }
    std::optional<Response> call(RequestBody body, std::uint64_t timeout_ms = 2000) {
        return rpc.call(kNodePort, std::move(body), timeout_ms);
    }
    // True when the node answers `info` with ok (it is up and has a manifest).
    bool serving() {
        auto r = call(InfoRequest{}, 1500);
        return r && r->status == Status::ok;
    }
    // Polls `serving()` until it equals `want` (up to `limit`).
    bool wait_serving(bool want, std::chrono::milliseconds limit = 30s) {
        for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
            if (serving() == want) return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }
};

// A stranger's envelope `text` for `owner`'s mailbox (no signature, no timestamp).
StoreRequest envelope(const MailboxOwner& owner, const std::string& text) {
    return StoreRequest{owner.key.pub, kEnvelopeNamespace, 600'000, Bytes(text.begin(), text.end())};
}

// The envelopes `owner` reads from the node (a signed retrieve), as text; nullopt with the
// status when refused.
std::vector<std::string> read_mailbox(NodeAt& node, MailboxOwner& owner, Status* status = nullptr) {
    auto r = node.call(owner.sign(RetrieveRequest{owner.key.pub, kEnvelopeNamespace, PageQuery{}, {}}));
    if (status) *status = r ? r->status : Status::internal;
    std::vector<std::string> out;
    if (r && r->status == Status::ok)
        for (const auto& m : std::get<PageResponse>(r->body).messages) out.emplace_back(m.data.begin(), m.data.end());
    return out;
}

std::string error_text(const std::optional<Response>& r) {
    if (!r) return "no answer";
    if (auto* e = std::get_if<ErrorResponse>(&r->body)) return e->message;
    return to_string(r->status);
}

}  // namespace

TEST_CASE("chaos faults - kill -9 and restart a node and the authority, cut and heal a host, a clock 5 minutes off",
          "[chaos][integration]") {
    if (hosts_skipped()) return;
    HostsTestnet net(3, 1, {"--node-option", "work_free_fraction=1", "--node-option", "node_work_free_fraction=1"});
    NodeAt n1(net, "node-1"), n2(net, "node-2"), n3(net, "node-3");
    REQUIRE(n1.serving());
    MailboxOwner bob;

    // kill -9 of a node: it stops answering; started again it serves what it had stored.
    auto stored = n1.call(envelope(bob, "before the crash"));
    REQUIRE(stored);
    REQUIRE(stored->status == Status::ok);
    net.fault("kill", "node-1");
    CHECK_FALSE(n1.serving());
    auto status = run_veil({"testnet", "status", "--dir", net.dir().string()}, {}, 30000);
    CHECK(status.exit_code != 0);
    CHECK(status.out.find("node-1 pid") != std::string::npos);
    CHECK(status.out.find(" stopped") != std::string::npos);
    net.fault("restart", "node-1");
    REQUIRE(n1.wait_serving(true));
    CHECK(read_mailbox(n1, bob) == std::vector<std::string>{"before the crash"});

    // The authority down: the nodes keep serving the manifest they hold; back, it signs again.
    net.fault("kill", "authority-1");
    CHECK(n2.serving());
    CHECK(n2.call(envelope(bob, "authority down"))->status == Status::ok);
    net.fault("restart", "authority-1");

    // A partition: node-2 cut off the bridge answers nothing; healed, it answers again.
    net.fault("cut", "node-2");
    CHECK_FALSE(n2.serving());
    net.fault("heal", "node-2");
    CHECK(n2.wait_serving(true, 20s));

    // node-3's wall clock 5 minutes ahead (libfaketime).
    net.fault("restart", "node-3", {"--clock-offset", "300"});
    std::string environ_text, name;
    int pid = 0;
    for (std::ifstream pids(net.dir() / "testnet.pids"); pids >> name >> pid;)
        if (name == "node-3") environ_text = slurp("/proc/" + std::to_string(pid) + "/environ");
    CHECK(environ_text.find("FAKETIME=+300") != std::string::npos);
    const bool skewed_serves = n3.wait_serving(true, 15s);
    Status skewed_read{}, true_read{};
    read_mailbox(n3, bob, &skewed_read);
    read_mailbox(n2, bob, &true_read);
    auto skewed_store = n3.call(envelope(bob, "to the skewed node"));
    std::cout << "clock 5 min ahead: info " << (skewed_serves ? "ok" : "not ok") << ", signed retrieve "
              << to_string(skewed_read) << " (a true node: " << to_string(true_read) << "), unsigned store "
              << error_text(skewed_store) << "\n";
    CHECK(true_read == Status::ok);
    // Signed requests carry the owner's time; a node 5 minutes off refuses them all.
    CHECK(skewed_read != Status::ok);
}

TEST_CASE("chaos faults - a node's full disk refuses stores with a clear error, keeps what it had and serves reads, "
          "and recovers once space is freed",
          "[chaos][integration]") {
    if (hosts_skipped()) return;
    HostsTestnet net(3, 1, {"--node-option", "work_free_fraction=1", "--node-option", "node_work_free_fraction=1",
                            "--node-option", "requests_per_second=100000", "--node-option", "request_burst=100000"});
    // node-1's data directory moves onto a 4 MiB tmpfs (killed first, started again on it).
    const auto data = net.dir() / "node-1" / "service-node";
    const auto saved = net.dir() / "node-1-saved";
    net.fault("kill", "node-1");
    fs::rename(data, saved);
    fs::create_directories(data);
    REQUIRE(::mount("tmpfs", data.c_str(), "tmpfs", 0, "size=4m,mode=0700") == 0);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{data};
    fs::copy(saved, data, fs::copy_options::recursive);
    net.fault("restart", "node-1");
    NodeAt n1(net, "node-1");
    REQUIRE(n1.wait_serving(true));

    MailboxOwner bob;
    std::vector<std::string> kept;
    for (int i = 0; i < 5; ++i) {
        kept.push_back("kept " + std::to_string(i));
        REQUIRE(n1.call(envelope(bob, kept.back()))->status == Status::ok);
    }
    // Fill the file system to the last block.
    {
        std::ofstream filler(data / "filler", std::ios::binary);
        std::string block(4096, '\0');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
        }
    }
    // Stores (into fresh mailboxes, 2 KB each) until the disk refuses one: SQLite may first
    // reuse WAL pages it already holds.
    std::string refusal;
    int accepted = 0;
    for (int i = 0; i < 400 && refusal.empty(); ++i) {
        MailboxOwner stranger;
        auto r = n1.call(envelope(stranger, std::string(2048, 'x')));
        REQUIRE(r);
        if (r->status == Status::ok) ++accepted;
        else refusal = error_text(r);
    }
    std::cout << "full disk: " << accepted << " stores fitted after the filler, then: " << refusal << "\n";
    CHECK(refusal == "this node's disk is full");
    // Reads go on, and nothing stored before is lost.
    CHECK(read_mailbox(n1, bob) == kept);
    CHECK(n1.serving());
    // Space freed: the next store succeeds, with no restart.
    fs::remove(data / "filler");
    auto after = n1.call(envelope(bob, "after the space was freed"));
    REQUIRE(after);
    CHECK(after->status == Status::ok);
    kept.push_back("after the space was freed");
    CHECK(read_mailbox(n1, bob) == kept);
    net.down();  // before the tmpfs goes
}
