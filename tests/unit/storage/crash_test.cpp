// A writer process killed with SIGKILL in the middle of a batch leaves all of the batch or
// none of it: the database opens and holds exactly one whole generation.
#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include "crash_batch.hpp"
#include "storage_test_support.hpp"
#include "support/process.hpp"
#include "vault.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;

namespace {

// The generation the database holds; every row must name it.
int stored_generation(const std::filesystem::path& path) {
    auto v = Vault::open(path, nullptr, VaultOptions{});
    auto rows = v->db().scan(kCrashNs, "row/", kCrashBatchRows + 10);
    auto gen = v->db().get(kCrashNs, "generation");
    if (!gen) {
        CHECK(rows.entries.empty());
        return 0;
    }
    int g = std::stoi(std::string(gen->begin(), gen->end()));
    auto expected = crash_value(g);
    REQUIRE(rows.entries.size() == static_cast<std::size_t>(kCrashBatchRows));
    int wrong = 0;
    for (const auto& e : rows.entries) {
        if (std::string(e.value.begin(), e.value.end()) != expected) ++wrong;
    }
    CHECK(wrong == 0);
    return g;
}

struct Round {
    int begun = 0, done = 0, inside = 0;
    bool wal_had_frames = false;
};

Round run_round(const std::filesystem::path& path, bool pause, std::mt19937& rng) {
    auto err = path;
    err += ".err";
    Interactive writer(Interactive::Program{{VEIL_STORAGE_CRASH_WRITER, path.string(), pause ? "pause" : "run"}}, err);
    Round r;
    int kill_after = 0;
    for (;;) {
        auto line = writer.read_line();
        REQUIRE(line.has_value());
        auto space = line->find(' ');
        auto word = line->substr(0, space);
        int g = std::stoi(line->substr(space + 1));
        if (word == "begin") r.begun = g;
        if (word == "done") r.done = g;
        if (word == "inside") {
            r.inside = g;
            break;
        }
        if (!pause && word == "begin" && kill_after == 0) kill_after = g + 1;
        if (!pause && word == "begin" && g == kill_after) {
            // Somewhere inside or around batch g: before it, while it writes, or at its commit.
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 60)(rng)));
            break;
        }
    }
    if (pause) {
        auto wal = path;
        wal += "-wal";
        std::error_code ec;
        r.wal_had_frames = std::filesystem::file_size(wal, ec) > 0 && !ec;
    }
    writer.kill9();
    return r;
}

void crash_rounds(int rounds) {
    StorageDir dir;
    auto path = dir / "crash.db";
    std::mt19937 rng(std::random_device{}());
    for (int i = 0; i < rounds; ++i) {
        bool pause = i % 2 == 0;
        INFO("round " << i << (pause ? " (killed inside the transaction)" : " (killed at a random moment)"));
        auto r = run_round(path, pause, rng);
        int g = stored_generation(path);
        if (pause) {
            // Killed with half of batch `inside` written (some of it spilled to the WAL).
            CHECK(r.wal_had_frames);
            CHECK(g == r.inside - 1);
            if (r.done > 0) CHECK(g == r.done);
        } else {
            CHECK(g >= r.done);
            CHECK(g <= r.begun);
        }
    }
}

}  // namespace

TEST_CASE("storage - a process killed mid-batch leaves all or none of the batch", "[storage]") {
    crash_rounds(4);
}

TEST_CASE("storage - many kills mid-batch never leave a partial batch", "[storage][slow]") {
    crash_rounds(30);
}
