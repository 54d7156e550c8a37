// Stores and retrieves per second on one node (decode + rules + SQLite through the handlers) as
// a ratio to raw SQLite inserts and point reads of the same rows, measured in the same run.
// Usage: veil_bench_node_store [messages] [--encrypted]
#include <sqlcipher/sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "lone_node.hpp"
#include "service.hpp"

using namespace veil::node;
using Clock = std::chrono::steady_clock;
namespace d = veil::proto;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fresh_path(const char* name) {
    auto p = std::filesystem::temp_directory_path() / ("veil-node-bench-" + std::to_string(::getpid()) + "-" + name);
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
    return p.string();
}

void exec(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        std::exit(1);
    }
}

struct Row {
    PublicKey mailbox;
    Hash hash;
    Bytes data;
};

// Raw SQLite: the same five-column table, pragmas and one autocommit insert per row.
std::pair<double, double> raw_sqlite(const std::vector<Row>& rows, const std::string& key_hex) {
    sqlite3* db = nullptr;
    sqlite3_open(fresh_path("raw.db").c_str(), &db);
    if (!key_hex.empty()) exec(db, ("PRAGMA key = \"x'" + key_hex + "'\"").c_str());
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA synchronous = NORMAL");
    exec(db, "CREATE TABLE m (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, mailbox BLOB NOT NULL, "
             "namespace INTEGER NOT NULL, expiry_ms INTEGER NOT NULL, data BLOB)");
    exec(db, "CREATE INDEX m_mb ON m (mailbox, namespace, id)");
    exec(db, "CREATE INDEX m_exp ON m (expiry_ms)");
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO m (hash, mailbox, namespace, expiry_ms, data) VALUES (?,?,0,?,?)", -1, &ins,
                       nullptr);
    auto t = Clock::now();
    for (const auto& r : rows) {
        sqlite3_bind_blob(ins, 1, r.hash.data(), 32, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, r.mailbox.data(), 32, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, static_cast<sqlite3_int64>(kNow + 3'600'000));
        sqlite3_bind_blob(ins, 4, r.data.data(), static_cast<int>(r.data.size()), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) std::exit(1);
        sqlite3_reset(ins);
    }
    double insert_s = seconds_since(t);
    sqlite3_stmt* sel = nullptr;
    sqlite3_prepare_v2(db, "SELECT data FROM m WHERE hash = ?", -1, &sel, nullptr);
    std::size_t bytes = 0;
    t = Clock::now();
    for (const auto& r : rows) {
        sqlite3_bind_blob(sel, 1, r.hash.data(), 32, SQLITE_STATIC);
        if (sqlite3_step(sel) == SQLITE_ROW) bytes += static_cast<std::size_t>(sqlite3_column_bytes(sel, 0));
        sqlite3_reset(sel);
    }
    double read_s = seconds_since(t);
    if (bytes == 0) std::exit(1);
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(fresh_path("raw.db") + ext);
    return {rows.size() / insert_s, rows.size() / read_s};
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::stoul(argv[1]) : 20000;
    bool encrypted = argc > 2 && std::strcmp(argv[2], "--encrypted") == 0;
    const std::string key_hex = encrypted ? std::string(64, 'c') : "";
    constexpr std::size_t kMailboxes = 500;

    // One node alone in one swarm, one authority.
    const veil::bench::LoneNode node;

    std::vector<veil::crypto::SigningKeyPair> owners;
    for (std::size_t i = 0; i < kMailboxes; ++i) owners.push_back(veil::crypto::SigningKeyPair::generate());
    std::vector<Row> rows;
    std::vector<Bytes> store_frames;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& owner = owners[i % kMailboxes];
        Bytes data(256);
        for (std::size_t j = 0; j < data.size(); ++j) data[j] = static_cast<std::uint8_t>(i * 31 + j);
        rows.push_back(Row{owner.pub, message_hash(owner.pub, 0, data), data});
        store_frames.push_back(encode_request(Request{static_cast<std::uint32_t>(i), StoreRequest{owner.pub, 0, 3'600'000, data}}));
    }

    auto [raw_insert_per_s, raw_read_per_s] = raw_sqlite(rows, key_hex);

    MessageStore store({fresh_path("node.db"), key_hex, false}, Limits{});
    StorageService service(node.key, store, Limits{}, node.verifier());
    if (service.update_manifest(node.manifest_envelope(), 0) != d::ManifestCheck::ok) return 1;

    auto t = Clock::now();
    for (const auto& f : store_frames) {
        auto out = service.handle(decode_request(f), kNow);
        if (out.response.status != Status::ok) return 1;
        (void)encode_response(Method::store, out.response);
    }
    double store_per_s = n / seconds_since(t);

    // Each retrieve: signed by the owner, one message after the previous one's hash.
    std::vector<Bytes> retrieve_frames;
    std::vector<std::optional<Hash>> cursor(kMailboxes);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& owner = owners[i % kMailboxes];
        RequestBody body = RetrieveRequest{owner.pub, 0, PageQuery{cursor[i % kMailboxes], 1, 1 << 20}, {}};
        sign_owner_request(body, owner, kNow + i / kMailboxes);
        retrieve_frames.push_back(encode_request(Request{static_cast<std::uint32_t>(i), body}));
        cursor[i % kMailboxes] = rows[i].hash;
    }
    std::size_t got = 0;
    t = Clock::now();
    for (const auto& f : retrieve_frames) {
        auto out = service.handle(decode_request(f), kNow);
        if (out.response.status != Status::ok) return 1;
        got += std::get<PageResponse>(out.response.body).messages.size();
        (void)encode_response(Method::retrieve, out.response);
    }
    double retrieve_per_s = n / seconds_since(t);
    if (got != n) {
        std::fprintf(stderr, "retrieved %zu of %zu\n", got, n);
        return 1;
    }

    // The signature check bounds signed retrieves: measure raw Ed25519 verification too.
    auto probe = owners[0].sign(store_frames[0]);
    std::size_t ok = 0;
    t = Clock::now();
    for (std::size_t i = 0; i < n; ++i) ok += veil::crypto::verify_signature(owners[0].pub, store_frames[0], probe);
    double verify_per_s = n / seconds_since(t);
    if (ok != n) return 1;

    std::printf("service-node store benchmark: %zu messages of 256 B in %zu mailboxes, WAL, synchronous=NORMAL%s\n",
                n, kMailboxes, encrypted ? ", SQLCipher key" : ", no database key");
    std::printf("  raw SQLite inserts        %10.0f /s\n", raw_insert_per_s);
    std::printf("  node stores               %10.0f /s   ratio %.2f\n", store_per_s, store_per_s / raw_insert_per_s);
    std::printf("  raw SQLite point reads    %10.0f /s\n", raw_read_per_s);
    std::printf("  node retrieves (signed)   %10.0f /s   ratio %.2f\n", retrieve_per_s, retrieve_per_s / raw_read_per_s);
    std::printf("  raw Ed25519 verifications %10.0f /s   (signed retrieves / verifications: %.2f)\n", verify_per_s,
                retrieve_per_s / verify_per_s);
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(fresh_path("node.db") + ext);
    return 0;
}
