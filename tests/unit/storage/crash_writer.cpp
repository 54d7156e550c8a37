// Test helper for crash_test: writes generation after generation of one big batch through
// SqlBackend (store thread + loop, as the plugin does) and reports progress on stdout:
//   begin G   batch G was handed to the backend
//   inside G  (pause mode) half of batch G's rows are written inside its open transaction;
//             the writer then sleeps there, so a kill -9 lands mid-batch for sure
//   done G    batch G committed
// usage: veil_storage_crash_writer DB_PATH run|pause
#include <sqlcipher/sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "crash_batch.hpp"
#include "sql_backend.hpp"

using namespace veil::sqlcipher;
using namespace veil::sdk::storage;

namespace {
std::atomic<bool> g_pause{false};
std::atomic<int> g_generation{0};
std::atomic<sqlite3_int64> g_base_changes{0};

// SQLite calls this every few VM steps while a statement runs (on the store thread).
int progress(void* db) {
    if (!g_pause) return 0;
    auto changes = sqlite3_total_changes(static_cast<sqlite3*>(db)) - g_base_changes.load();
    if (changes >= veil::test::kCrashBatchRows / 2) {
        std::printf("inside %d\n", g_generation.load());
        std::fflush(stdout);
        for (;;) ::pause();  // the parent kills us here, inside the transaction
    }
    return 0;
}

struct Writer {
    SqlBackend* backend;
    bool pause_mode;
    int generation;

    void next() {
        int g = ++generation;
        Batch b = veil::test::crash_batch(g);
        // Arm the pause from the store thread, in order, right before the batch runs.
        backend->with_vault(
            [this, g](Vault& v) {
                g_generation = g;
                g_base_changes = sqlite3_total_changes(v.db().handle());
                g_pause = pause_mode && g >= 3;
            },
            [](veil::sdk::Status) {});
        std::printf("begin %d\n", g);
        std::fflush(stdout);
        backend->batch(b, [this, g](veil::sdk::Result<Done> r) {
            if (!r.ok()) {
                std::fprintf(stderr, "batch %d failed: %s\n", g, r.error().message.c_str());
                std::_Exit(1);
            }
            std::printf("done %d\n", g);
            std::fflush(stdout);
            next();
        });
    }
};
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DB_PATH run|pause\n", argv[0]);
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    SqlBackend backend(&loop);
    backend.open(argv[1], nullptr, VaultOptions{});
    int start = 0;
    bool ready = false;
    backend.with_vault(
        [&start](Vault& v) {
            // A small page cache makes the open transaction spill pages into the WAL.
            sqlite3_exec(v.db().handle(), "PRAGMA cache_size = 50;", nullptr, nullptr, nullptr);
            sqlite3_progress_handler(v.db().handle(), 100, progress, v.db().handle());
            if (auto g = v.db().get(veil::test::kCrashNs, "generation")) start = std::stoi(std::string(g->begin(), g->end()));
        },
        [&ready](veil::sdk::Status s) {
            if (!s.ok()) {
                std::fprintf(stderr, "setup failed: %s\n", s.error().message.c_str());
                std::_Exit(1);
            }
            ready = true;
        });
    while (!ready) uv_run(&loop, UV_RUN_ONCE);
    Writer w{&backend, std::string(argv[2]) == "pause", start};
    w.next();
    uv_run(&loop, UV_RUN_DEFAULT);
    return 0;
}
