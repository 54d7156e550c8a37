// What a row costs the node (docs/service-node.md §Pricing the node's bytes), on real node
// processes: a hostile client's flood of 1-byte envelopes stops at the node's cap with the file
// within the cap (every row is charged kRowOverheadBytes and its proof share), and an owner's refresh of a held message
// pays like a store once the node is past its free fraction.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store.hpp"
#include "node_call.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/proto/store_work.hpp"

using namespace veil::proto::node;
using namespace std::chrono_literals;
using veil::test::Testnet;
namespace fs = std::filesystem;

namespace {

using Rpc = veil::test::CheckedRpc;
using veil::test::call_ready;

fs::path find_file(const fs::path& under, const std::string& name) {
    for (const auto& e : fs::recursive_directory_iterator(under))
        if (e.path().filename() == name) return e.path();
    FAIL("no " << name << " under " << under);
    return {};
}

// A stranger's 1-byte envelope into its own fresh mailbox: no mailbox quota or price applies.
StoreRequest tiny_envelope(std::uint32_t i) {
    PublicKey mailbox{};
    for (int b = 0; b < 4; ++b) mailbox[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
    return StoreRequest{mailbox, kEnvelopeNamespace, 600'000, Bytes{0x01}};
}

}  // namespace

TEST_CASE("node rows - a flood of 1-byte envelopes stops at the node's cap, the file within 1.25x of it",
          "[node][integration]") {
    constexpr std::uint64_t kCap = 1 << 20;
    // Pricing off: only the cap stands in the flood's way.
    Testnet net(1, 1, {"max_stored_bytes=" + std::to_string(kCap), "work_free_fraction=1", "node_work_free_fraction=1",
                       "requests_per_second=1000000", "request_burst=1000000"});
    auto port = net.ports()[0];
    std::uint32_t stored = 0;
    bool full = false;
    {
        Rpc rpc;
        // Without the row charge 1 MiB holds a million such rows: 20,000 would all be stored.
        for (std::uint32_t i = 0; i < 20'000 && !full; ++i) {
            auto r = call_ready(rpc, port, tiny_envelope(i));
            if (r.status == Status::ok) ++stored;
            else full = r.status == Status::quota_exceeded;
        }
    }
    REQUIRE(full);
    // Each row: its overhead, its byte and its two proof shares paid in advance.
    constexpr std::uint64_t kCharged = veil::node::kRowOverheadBytes + veil::node::kNewRowShareBytes + 1;
    CHECK(stored <= kCap / kCharged);
    CHECK(stored + 10 >= kCap / kCharged);
    // The file itself, with its write-ahead log checkpointed (what the node's disk holds at rest).
    const auto node_dir = net.dir() / "node-1";
    const auto db = find_file(node_dir, "messages.db");
    auto key = veil::crypto::load_or_create_hex_secret(find_file(node_dir, "db.key"));
    net.kill9("node-1");
    {
        veil::node::MessageStore reopened({db.string(), key, false}, veil::node::Limits{});
        CHECK(reopened.row_count() == stored);
        CHECK(reopened.stored_bytes() <= kCap);
    }
    const auto on_disk = fs::file_size(db);
    UNSCOPED_INFO("stored " << stored << " rows; file " << on_disk << " bytes: " << on_disk / stored
                            << " a row, charged " << kCharged);
    CHECK(on_disk <= kCap + kCap / 4);
}

TEST_CASE("node rows - past the node's free fraction an owner's refresh pays like a store", "[node][integration][work]") {
    // A small node: half of it is free, then every new byte (and every longer keep) pays.
    Testnet net(1, 1, {"max_stored_bytes=65536", "work_free_fraction=1", "min_ttl_ms=1000",
                       "requests_per_second=1000000", "request_burst=1000000"});
    auto port = net.ports()[0];
    Rpc rpc;
    veil::test::MailboxOwner bob;
    const Bytes list(200, 0x17);
    auto first = call_ready(rpc, port, bob.sign(StoreRequest{bob.key.pub, kDeviceListNamespace, 60'000, list}));
    REQUIRE(first.status == Status::ok);
    const auto first_expiry = std::get<StoreResponse>(first.body).expiry_ms;
    // Free stores until the node asks for work: it is past half full.
    bool priced = false;
    for (std::uint32_t i = 0; i < 1000 && !priced; ++i)
        priced = call_ready(rpc, port, tiny_envelope(i)).status == Status::pow_required;
    REQUIRE(priced);
    std::this_thread::sleep_for(50ms);
    // The owner's refresh without work: refused, and the expiry stays.
    auto refresh = StoreRequest{bob.key.pub, kDeviceListNamespace, 60'000, list};
    auto asked = call_ready(rpc, port, bob.sign(refresh));
    REQUIRE(asked.status == Status::pow_required);
    auto page = call_ready(rpc, port, RetrieveRequest{bob.key.pub, kDeviceListNamespace, PageQuery{}, {}});
    REQUIRE(page.status == Status::ok);
    REQUIRE(std::get<PageResponse>(page.body).messages.size() == 1);
    CHECK(std::get<PageResponse>(page.body).messages[0].expiry_ms == first_expiry);
    // With the work the node named, the refresh goes through and extends the expiry.
    REQUIRE(solve_store_work(refresh, std::get<WorkRequiredResponse>(asked.body).work));
    auto paid = call_ready(rpc, port, bob.sign(refresh));
    REQUIRE(paid.status == Status::ok);
    CHECK_FALSE(std::get<StoreResponse>(paid.body).newly_stored);
    CHECK(std::get<StoreResponse>(paid.body).expiry_ms > first_expiry);
}
