// Puts and gets per second through SqlBackend (store thread, loop-thread completions, group
// commit of queued writes), as a ratio to raw SQLCipher statements on the same rows, same
// pragmas, same run.
// usage: veil_storage_bench [ROWS] [--durable]
//   ROWS       rows per measurement (default 20000)
//   --durable  synchronous=FULL (fsync per commit) instead of NORMAL
#include <sqlcipher/sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sql_backend.hpp"

using namespace veil::sqlcipher;
using namespace veil::sdk::storage;
using Clock = std::chrono::steady_clock;

namespace {

struct Rows {
    std::vector<std::string> keys;
    veil::wire::Bytes value = veil::wire::Bytes(100, 0x5a);
    explicit Rows(int n) {
        char k[32];
        for (int i = 0; i < n; ++i) {
            std::snprintf(k, sizeof k, "msg/%08d", i);
            keys.emplace_back(k);
        }
    }
};

double per_second(int n, Clock::duration d) { return n / std::chrono::duration<double>(d).count(); }

// Raw statements on a connection the library opened (same key, WAL, pragmas).
struct RawRates {
    double puts, gets, batch_puts;
};
RawRates raw_statements(Database& db, const Rows& rows, int batch) {
    sqlite3* h = db.handle();
    sqlite3_stmt *put = nullptr, *get = nullptr;
    sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3);", -1, &put, nullptr);
    sqlite3_prepare_v2(h, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2;", -1, &get, nullptr);
    auto n = static_cast<int>(rows.keys.size());
    auto one_put = [&](const std::string& k) {
        sqlite3_bind_blob(put, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_blob(put, 2, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
        sqlite3_bind_blob(put, 3, rows.value.data(), static_cast<int>(rows.value.size()), SQLITE_STATIC);
        if (sqlite3_step(put) != SQLITE_DONE) std::abort();
        sqlite3_reset(put);
    };
    for (const auto& k : rows.keys) one_put(k);  // warm-up: the WAL reaches its steady size
    auto t0 = Clock::now();
    for (const auto& k : rows.keys) one_put(k);
    auto t1 = Clock::now();
    std::size_t sum = 0;
    for (const auto& k : rows.keys) {
        sqlite3_bind_blob(get, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_blob(get, 2, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
        if (sqlite3_step(get) != SQLITE_ROW) std::abort();
        sum += static_cast<std::size_t>(sqlite3_column_bytes(get, 0));
        sqlite3_reset(get);
    }
    auto t2 = Clock::now();
    for (int i = 0; i < n; i += batch) {
        sqlite3_exec(h, "BEGIN IMMEDIATE;", nullptr, nullptr, nullptr);
        for (int j = i; j < std::min(n, i + batch); ++j) one_put(rows.keys[static_cast<std::size_t>(j)]);
        sqlite3_exec(h, "COMMIT;", nullptr, nullptr, nullptr);
    }
    auto t3 = Clock::now();
    sqlite3_finalize(put);
    sqlite3_finalize(get);
    if (sum != rows.keys.size() * rows.value.size()) std::abort();
    return {per_second(n, t1 - t0), per_second(n, t2 - t1), per_second(n, t3 - t2)};
}

// Runs the loop until `left` reaches zero.
void run_until_zero(uv_loop_t* loop, const int& left) {
    while (left > 0) uv_run(loop, UV_RUN_ONCE);
}

struct BackendRates {
    double puts_pipelined, puts_one_by_one, gets_pipelined, batch_puts;
};
BackendRates through_backend(uv_loop_t* loop, SqlBackend& b, const Rows& rows, int batch) {
    auto n = static_cast<int>(rows.keys.size());
    int left = n;
    auto count = [&left](auto r) {
        if (!r.ok()) std::abort();
        --left;
    };
    // Warm-up, as for raw: the WAL reaches its steady size.
    for (const auto& k : rows.keys) b.put({"bench", k, rows.value}, count);
    run_until_zero(loop, left);
    left = n;
    // Pipelined: every put queued at once, as a busy plugin would.
    auto t0 = Clock::now();
    for (const auto& k : rows.keys) b.put({"bench", k, rows.value}, count);
    run_until_zero(loop, left);
    auto t1 = Clock::now();
    // One by one: the next put only after the previous completed (round-trip bound).
    left = n;
    std::function<void(int)> next = [&](int i) {
        if (i == n) return;
        b.put({"bench", rows.keys[static_cast<std::size_t>(i)], rows.value}, [&, i](veil::sdk::Result<Done> r) {
            if (!r.ok()) std::abort();
            --left;
            next(i + 1);
        });
    };
    next(0);
    run_until_zero(loop, left);
    auto t2 = Clock::now();
    left = n;
    std::size_t sum = 0;
    for (const auto& k : rows.keys) {
        b.get({"bench", k}, [&](veil::sdk::Result<GetReply> r) {
            if (!r.ok() || !r.value().value) std::abort();
            sum += r.value().value->size();
            --left;
        });
    }
    run_until_zero(loop, left);
    auto t3 = Clock::now();
    if (sum != rows.keys.size() * rows.value.size()) std::abort();
    left = (n + batch - 1) / batch;
    for (int i = 0; i < n; i += batch) {
        Batch op;
        for (int j = i; j < std::min(n, i + batch); ++j) {
            op.ops.push_back({BatchOp::Kind::put, "bench", rows.keys[static_cast<std::size_t>(j)], rows.value});
        }
        b.batch(op, count);
    }
    run_until_zero(loop, left);
    auto t4 = Clock::now();
    return {per_second(n, t1 - t0), per_second(n, t2 - t1), per_second(n, t3 - t2), per_second(n, t4 - t3)};
}

}  // namespace

int main(int argc, char** argv) {
    int n = 20000;
    bool durable = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--durable") == 0) {
            durable = true;
        } else {
            n = std::atoi(argv[i]);
        }
    }
    if (n <= 0) n = 20000;
    const int batch = 100;
    char tmpl[] = "/tmp/veil-storage-bench-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    std::filesystem::path dir(tmpl);
    Rows rows(n);
    VaultOptions options;
    options.database.durable_commits = durable;
    options.wrap = veil::crypto::WrapParams::minimum();

    RawRates r{};
    {
        auto v = Vault::open(dir / "raw.db", nullptr, options);
        r = raw_statements(v->db(), rows, batch);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    BackendRates b{};
    {
        SqlBackend backend(&loop);
        backend.open(dir / "backend.db", nullptr, options);
        b = through_backend(&loop, backend, rows, batch);
        backend.close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);

    std::printf("storage/sqlcipher benchmark: %d rows of 100 bytes, SQLCipher %s, WAL, synchronous=%s\n", n,
                "3.4.1", durable ? "FULL" : "NORMAL");
    std::printf("raw: one sqlite3_step per row (puts in autocommit: one commit each; batches: one transaction)\n");
    std::printf("%-34s %12s %12s %8s\n", "operation", "backend/s", "raw/s", "ratio");
    auto line = [](const char* what, double backend_rate, double raw_rate) {
        std::printf("%-34s %12.0f %12.0f %8.2f\n", what, backend_rate, raw_rate, backend_rate / raw_rate);
    };
    line("put, pipelined (group commit)", b.puts_pipelined, r.puts);
    line("put, one by one", b.puts_one_by_one, r.puts);
    line("get, pipelined", b.gets_pipelined, r.gets);
    line("put in batches of 100", b.batch_puts, r.batch_puts);
    return 0;
}
