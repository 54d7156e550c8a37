// Attachments end to end with real processes: a 9-node testnet whose nodes run the attachment
// store, and two clients (separate homes) whose only transport is onion routing, driven with
// `veil attachment upload|download`. ctest labels: attachments, integration.

// GCC 12 with the sanitizers warns inside std::regex (used by testnet_fixture.hpp): a known
// false positive (GCC PR 105562), silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <catch2/catch.hpp>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <sstream>

#include "support/node_rpc.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/proto/blob_rpc.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using veil::test::Testnet;
using veil::test::run_veil;
using veil::test::slurp;

// A client home with its own config: network + onion + the attachment plugins.
fs::path make_client(const Testnet& net, const std::string& name, const std::string& extra = "") {
    auto home = net.dir() / name;
    fs::create_directories(home);
    auto network = slurp(net.dir() / "network.toml");
    network = network.substr(network.find("[network]"));
    std::ofstream(home / "veil.toml") << "[kernel]\nplugins = [\"network\", \"onion\", \"exif-strip\", \"attachments\", \"cli\"]\n"
                                      << "log_level = \"info\"\nhome = \"" << home.string() << "\"\n\n"
                                      << network << "\n" << extra;
    return home;
}

veil::test::ProcessResult veil_at(const fs::path& home, std::vector<std::string> args, int timeout_ms = 120000) {
    args.insert(args.begin(), {"--config", (home / "veil.toml").string()});
    return run_veil(args, {}, timeout_ms);
}

std::string random_file(const fs::path& path, std::size_t n) {
    std::string bytes(n, '\0');
    randombytes_buf(bytes.data(), bytes.size());
    std::ofstream(path, std::ios::binary) << bytes;
    return bytes;
}

// Uploads, retrying while the nodes' stores have just started (no manifest yet). The files are
// random bytes (no known type), which the metadata policy refuses unless kept as they are.
nlohmann::json upload(const fs::path& home, const fs::path& file) {
    veil::test::ProcessResult r;
    for (int i = 0; i < 10; ++i) {
        r = veil_at(home, {"attachment", "upload", file.string(), "--keep-metadata"});
        if (r.exit_code == 0 || r.err.find("no manifest") == std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

// The "progress DONE/TOTAL" lines of a command run with --progress.
std::vector<std::pair<std::uint64_t, std::uint64_t>> progress_of(const std::string& err) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    std::istringstream lines(err);
    std::string line;
    while (std::getline(lines, line)) {
        std::uint64_t done = 0, total = 0;
        char slash = 0;
        std::istringstream words(line);
        std::string word;
        if (words >> word && word == "progress" && words >> done >> slash >> total && slash == '/')
            out.emplace_back(done, total);
    }
    return out;
}

// `text` with every `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// The nodes (names) holding a complete blob with this id.
std::vector<std::string> holders(const Testnet& net, const std::string& id_hex) {
    std::vector<std::string> out;
    for (std::size_t i = 1; i <= net.ports().size(); ++i) {
        auto dir = net.dir() / ("node-" + std::to_string(i)) / "attachment-store" / "blobs";
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().filename().string().rfind(id_hex, 0) == 0) out.push_back("node-" + std::to_string(i));
    }
    return out;
}

fs::path blob_file(const Testnet& net, const std::string& node, const std::string& id_hex) {
    for (const auto& e : fs::directory_iterator(net.dir() / node / "attachment-store" / "blobs"))
        if (e.path().filename().string().rfind(id_hex, 0) == 0) return e.path();
    FAIL("no blob");
    return {};
}

// Waits until `n` nodes hold the blob (replication follows the upload's answer).
void await_holders(const Testnet& net, const std::string& id_hex, std::size_t n) {
    for (int i = 0; i < 200 && holders(net, id_hex).size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(holders(net, id_hex).size() == n);
}

}  // namespace

TEST_CASE("attachments - a 5 MB file through onion arrives byte-identical; replicated, it survives a killed node",
          "[attachments][integration]") {
    REQUIRE(sodium_init() >= 0);
    // Four swarms: a path's three relays come from distinct swarms, so with only three, every
    // path to the survivor would cross one of its two killed swarm mates.
    Testnet net(12, 3);
    auto alice = make_client(net, "alice");
    auto bob = make_client(net, "bob");
    auto original = random_file(net.dir() / "report.bin", 5'000'000);

    auto ref = upload(alice, net.dir() / "report.bin");
    CHECK(ref["size"] == 5'000'000);
    CHECK(ref["file_name"] == "report.bin");
    const std::string id = ref["id"];
    await_holders(net, id, 3);  // every member of the owning swarm
    // A node learns the size bucket only: the stored blob is the padded ciphertext.
    auto stored = fs::file_size(blob_file(net, holders(net, id)[0], id));
    CHECK(stored > 5'000'000);
    CHECK(stored < 5'000'000 * 105 / 100 + 4096);
    CHECK(slurp(blob_file(net, holders(net, id)[0], id)).find(original.substr(1000, 64)) == std::string::npos);

    std::ofstream(net.dir() / "ref.json") << ref.dump();
    auto got = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "files").string(), "--progress"});
    INFO(got.err);
    REQUIRE(got.exit_code == 0);
    // TransferProgress on the bus: from 0 to the whole blob, never backwards.
    auto steps = progress_of(got.err);
    REQUIRE(steps.size() >= 3);
    CHECK(steps.front().first == 0);
    CHECK(steps.back().first == steps.back().second);
    CHECK(steps.back().second == stored);
    CHECK(std::is_sorted(steps.begin(), steps.end()));
    fs::path saved = got.out.substr(0, got.out.find('\n'));
    CHECK(saved == bob / "files" / "report.bin");
    CHECK(slurp(saved) == original);
    CHECK((fs::status(saved).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

    // Two of the three holders killed: the last one still serves it (downloaded again, a new name).
    auto h = holders(net, id);
    net.kill9(h[0]);
    net.kill9(h[1]);
    auto again = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "files").string()});
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("report (1).bin") != std::string::npos);
    CHECK(slurp(bob / "files" / "report (1).bin") == original);
}

TEST_CASE("attachments - a tampered stored blob or a wrong digest is refused and nothing is written",
          "[attachments][integration]") {
    Testnet net(9, 3);
    auto alice = make_client(net, "alice");
    auto bob = make_client(net, "bob");
    random_file(net.dir() / "photo.bin", 300'000);
    auto ref = upload(alice, net.dir() / "photo.bin");
    const std::string id = ref["id"];
    await_holders(net, id, 3);

    // A wrong digest in the ref (id recomputed from it would not match either): refused.
    auto wrong = ref;
    std::string digest = wrong["digest"];
    digest[0] = digest[0] == '0' ? '1' : '0';
    wrong["digest"] = digest;
    std::ofstream(net.dir() / "wrong.json") << wrong.dump();
    auto r1 = veil_at(bob, {"attachment", "download", (net.dir() / "wrong.json").string(), (bob / "files").string()});
    CHECK(r1.exit_code == 1);
    CHECK_THAT(r1.err, Catch::Contains("inconsistent"));

    // Every stored copy altered by one byte (as a faulty or hostile swarm would): refused.
    for (const auto& node : holders(net, id)) {
        auto path = blob_file(net, node, id);
        auto bytes = slurp(path);
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    }
    std::ofstream(net.dir() / "ref.json") << ref.dump();
    auto r2 = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "files").string()});
    INFO(r2.err);
    CHECK(r2.exit_code == 1);
    CHECK_THAT(r2.err, Catch::Contains("does not verify") && Catch::Contains("nothing was written"));
    CHECK((!fs::exists(bob / "files") || fs::is_empty(bob / "files")));
}

TEST_CASE("attachments - an oversized file is refused before anything is uploaded", "[attachments][integration]") {
    Testnet net(9, 3);
    auto alice = make_client(net, "alice");
    auto big = net.dir() / "big.bin";
    std::ofstream(big, std::ios::binary).close();
    fs::resize_file(big, 12'897'485);  // 12.3 MB
    auto r = veil_at(alice, {"attachment", "upload", big.string()});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("file is 12.3 MB; the limit is 10 MB"));
    for (std::size_t i = 1; i <= 9; ++i) {
        auto store = net.dir() / ("node-" + std::to_string(i)) / "attachment-store";
        CHECK(fs::is_empty(store / "parts"));
        CHECK(fs::is_empty(store / "blobs"));
    }
    // The client's own (lower) limit is honoured the same way.
    auto carol = make_client(net, "carol", "[attachments]\nmax_file_bytes = 100000\n");
    random_file(net.dir() / "small.bin", 200'000);
    auto r2 = veil_at(carol, {"attachment", "upload", (net.dir() / "small.bin").string()});
    CHECK(r2.exit_code == 1);
    CHECK_THAT(r2.err, Catch::Contains("file is 0.2 MB; the limit is 0.1 MB"));

    // A processor that is configured but not running refuses the upload rather than sending
    // the file with its metadata.
    auto dave = net.dir() / "dave";
    fs::create_directories(dave);
    auto cfg = slurp(carol / "veil.toml");
    cfg = replaced(cfg, "\"exif-strip\", ", "");
    cfg = replaced(cfg, "[attachments]\nmax_file_bytes = 100000\n", "");
    cfg = replaced(cfg, "carol", "dave");
    std::ofstream(dave / "veil.toml") << cfg;
    auto r3 = veil_at(dave, {"attachment", "upload", (net.dir() / "small.bin").string()});
    CHECK(r3.exit_code == 1);
    CHECK_THAT(r3.err, Catch::Contains("attachment processor 'exif-strip' is not running"));
    for (std::size_t i = 1; i <= 9; ++i)
        CHECK(fs::is_empty(net.dir() / ("node-" + std::to_string(i)) / "attachment-store" / "blobs"));
}

TEST_CASE("attachments - a blob expires on every node of its swarm", "[attachments][integration]") {
    Testnet net(9, 3, {"attachment-store.expiry_ms=4000"});
    auto alice = make_client(net, "alice");
    auto bob = make_client(net, "bob");
    auto original = random_file(net.dir() / "note.txt", 1000);
    auto ref = upload(alice, net.dir() / "note.txt");
    const std::string id = ref["id"];
    std::ofstream(net.dir() / "ref.json") << ref.dump();
    auto before = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "files").string()});
    REQUIRE(before.exit_code == 0);
    // Expiry 4 s after the upload, swept every second.
    for (int i = 0; i < 100 && !holders(net, id).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(holders(net, id).empty());
    auto after = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "later").string()});
    CHECK(after.exit_code == 3);
    CHECK_THAT(after.err, Catch::Contains("no longer stored"));
}

// The list of held blobs (what catch-up pages through) is for the members of the store's swarm:
// a stranger, and a node of another swarm, each with a valid signature of its own, are refused.
TEST_CASE("attachments - a store lists its blobs only to members of its swarm", "[attachments][integration]") {
    namespace blob = veil::proto::blob;
    Testnet net(6, 3);
    veil::test::NodeRpc rpc;
    const auto verifier = net.verifier();
    const auto m = veil::test::complete_manifest(rpc, net.ports()[0], 6, &verifier);
    auto key_of = [&](std::size_t i) {
        return veil::crypto::load_or_create_signing_key(net.dir() / ("node-" + std::to_string(i)) / "service-node" / "node.key");
    };
    const auto asked = key_of(1);
    const auto swarm = m.find(asked.pub)->swarm;
    std::optional<veil::crypto::SigningKeyPair> member, outsider;
    for (std::size_t i = 2; i <= 6; ++i) {
        auto k = key_of(i);
        auto& slot = m.find(k.pub)->swarm == swarm ? member : outsider;
        if (!slot) slot = std::move(k);
    }
    REQUIRE(member);
    REQUIRE(outsider);
    auto stranger = veil::crypto::SigningKeyPair::generate();
    auto list_as = [&](const veil::crypto::SigningKeyPair& who) {
        blob::ListRequest q;
        q.requester = who.pub;
        q.timestamp_ms = veil::sdk::now_ms();
        q.signature = who.sign(blob::list_signed_bytes(q));
        blob::Response out;
        for (int i = 0; i < 50; ++i) {  // the store may still be waiting for its manifest
            auto r = rpc.ask(net.ports()[0], blob::kServiceName, blob::encode_request(q));
            REQUIRE(r);
            out = blob::decode_response(blob::Method::list, r.value().body);
            if (out.status != blob::Status::not_ready) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return out.status;
    };
    CHECK(list_as(*member) == blob::Status::ok);
    CHECK(list_as(*outsider) == blob::Status::bad_request);
    CHECK(list_as(stranger) == blob::Status::bad_request);
    CHECK(rpc.close() == 0);
}

TEST_CASE("attachments - a member that was down during an upload fetches the blob from its swarm after a restart",
          "[attachments][integration]") {
    Testnet net(9, 3);
    auto alice = make_client(net, "alice", "[attachments]\nprocessors = []\n");
    random_file(net.dir() / "first.bin", 1000);
    auto first = upload(alice, net.dir() / "first.bin");
    await_holders(net, first["id"], 3);
    auto swarm = holders(net, first["id"]);
    const auto down = swarm[0];
    net.kill9(down);

    // Files are uploaded until one lands in that swarm (one in three does): stored on the two
    // members that are up.
    std::string id;
    for (int i = 0; i < 40 && id.empty(); ++i) {
        random_file(net.dir() / "next.bin", 2000);
        auto ref = upload(alice, net.dir() / "next.bin");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        auto h = holders(net, ref["id"]);
        if (std::find(swarm.begin(), swarm.end(), h.at(0)) != swarm.end()) id = ref["id"];
    }
    REQUIRE_FALSE(id.empty());
    await_holders(net, id, 2);
    CHECK(holders(net, id).size() == 2);

    net.restart(down);
    // Catch-up runs when the node learns its swarm, then every 3 s on a test network.
    await_holders(net, id, 3);
    auto h = holders(net, id);
    REQUIRE(std::find(h.begin(), h.end(), down) != h.end());
    CHECK(slurp(blob_file(net, down, id)) == slurp(blob_file(net, h[0] == down ? h[1] : h[0], id)));
}

namespace {

// Files of varied sizes (bucket edges, chunk edges, the 10 MiB limit) uploaded by one client
// and downloaded by another while a node of the network is killed and restarted in turn.
void soak(std::size_t files) {
    Testnet net(12, 3);
    auto alice = make_client(net, "alice", "[attachments]\nprocessors = []\n");
    auto bob = make_client(net, "bob", "[attachments]\nprocessors = []\n");
    const std::vector<std::size_t> sizes{0, 1, 541, 542, 65'536, 258'048, 258'049, 1'000'000, 10ull << 20, 3'333'333};
    for (std::size_t i = 0; i < files; ++i) {
        const auto victim = "node-" + std::to_string(1 + i % 12);
        if (i % 3 == 1) net.kill9(victim);
        auto name = "f" + std::to_string(i) + ".bin";
        auto original = random_file(net.dir() / name, sizes[i % sizes.size()]);
        auto ref = upload(alice, net.dir() / name);
        std::ofstream(net.dir() / "ref.json", std::ios::trunc) << ref.dump();
        auto got = veil_at(bob, {"attachment", "download", (net.dir() / "ref.json").string(), (bob / "files").string()});
        INFO(name << " " << got.err);
        REQUIRE(got.exit_code == 0);
        CHECK(slurp(got.out.substr(0, got.out.find('\n'))) == original);
        if (i % 3 == 1) net.restart(victim);
    }
}

}  // namespace

TEST_CASE("attachments - files of every edge size round trip while nodes are killed and restarted (short)",
          "[attachments][integration]") {
    soak(4);
}

TEST_CASE("attachments - files of every edge size round trip while nodes are killed and restarted (30 files)",
          "[attachments][integration][slow]") {
    soak(30);
}

namespace {

namespace blob = veil::proto::blob;

// Chunk 0 of a fresh two-chunk upload (a random digest: it never completes).
blob::PutRequest first_chunk_of_new_upload() {
    blob::PutRequest q;
    randombytes_buf(q.digest.data(), q.digest.size());
    q.id = blob::blob_id(q.digest);
    q.total_bytes = 2 * blob::kChunkBytes;
    q.bytes.assign(blob::kChunkBytes, 7);
    return q;
}

blob::Response put(veil::test::NodeRpc& rpc, std::uint16_t port, const blob::PutRequest& q) {
    auto r = rpc.ask(port, blob::kServiceName, blob::encode_request(q));
    REQUIRE(r);
    REQUIRE(r.value().status == veil::sdk::transport::Status::ok);
    return blob::decode_response(blob::Method::put, r.value().body);
}

// Waits until the lone node's store has its manifest (uploads answer not_ready before).
void await_store_ready(std::uint16_t port) {
    for (int i = 0; i < 100; ++i) {
        veil::test::NodeRpc rpc;
        blob::GetRequest q;
        auto r = rpc.ask(port, blob::kServiceName, blob::encode_request(q));
        if (r && blob::decode_response(blob::Method::get, r.value().body).status == blob::Status::not_found) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the attachment store never got its manifest");
}

}  // namespace

TEST_CASE("attachments - one host cannot take every upload slot or the store's write rate", "[attachments][integration]") {
    SECTION("pending uploads") {
        // Loopback counted as on a real network: every connection of the test is one source.
        Testnet net(1, 1, {"attachment-store.max_pending_uploads_per_source=4", "loopback_per_connection=false"});
        const auto port = net.ports()[0];
        await_store_ready(port);
        // One host's four connections take one upload slot each: its share is then spent, on a
        // fifth connection too (counted per connection, each could take four).
        std::vector<std::unique_ptr<veil::test::NodeRpc>> hog;
        for (int i = 0; i < 5; ++i) hog.push_back(std::make_unique<veil::test::NodeRpc>());
        for (int i = 0; i < 4; ++i) CHECK(put(*hog[i], port, first_chunk_of_new_upload()).status == blob::Status::ok);
        auto refused = put(*hog[4], port, first_chunk_of_new_upload());
        CHECK(refused.status == blob::Status::not_ready);
        CHECK_THAT(refused.message, Catch::Contains("this source has too many uploads"));
        for (auto& h : hog) CHECK(h->close() == 0);
    }
    SECTION("upload rate") {
        // A burst of three chunks, refilled at 1 byte a second (nothing within the test).
        Testnet net(1, 1, {"attachment-store.upload_byte_burst=" + std::to_string(3 * blob::kChunkBytes),
                           "attachment-store.upload_bytes_per_second=1"});
        const auto port = net.ports()[0];
        await_store_ready(port);
        veil::test::NodeRpc hog;
        for (int i = 0; i < 3; ++i) CHECK(put(hog, port, first_chunk_of_new_upload()).status == blob::Status::ok);
        auto refused = put(hog, port, first_chunk_of_new_upload());
        CHECK(refused.status == blob::Status::not_ready);
        CHECK_THAT(refused.message, Catch::Contains("over its upload rate"));
        veil::test::NodeRpc other;
        CHECK(put(other, port, first_chunk_of_new_upload()).status == blob::Status::ok);
        CHECK(hog.close() == 0);
        CHECK(other.close() == 0);
    }
}
