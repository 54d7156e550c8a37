#pragma once
// The batch crash_writer writes and crash_test checks: kCrashBatchRows rows whose values all
// name the generation, plus the generation itself.
#include <cstdio>
#include <string>

#include "veil/sdk/storage.hpp"

namespace veil::test {

inline constexpr int kCrashBatchRows = 1500;
inline constexpr const char* kCrashNs = "crash";

/// Key of row i ("row/0000" ...).
inline std::string crash_key(int i) {
    char k[16];
    std::snprintf(k, sizeof k, "row/%04d", i);
    return k;
}

/// Value of every row of generation g: "g=<g>;" then filler to 1000 bytes.
inline std::string crash_value(int g) {
    std::string v = "g=" + std::to_string(g) + ";";
    v.resize(1000, 'x');
    return v;
}

inline sdk::storage::Batch crash_batch(int g) {
    sdk::storage::Batch b;
    auto v = crash_value(g);
    for (int i = 0; i < kCrashBatchRows; ++i) {
        b.ops.push_back({sdk::storage::BatchOp::Kind::put, kCrashNs, crash_key(i), {v.begin(), v.end()}});
    }
    auto gs = std::to_string(g);
    b.ops.push_back({sdk::storage::BatchOp::Kind::put, kCrashNs, "generation", {gs.begin(), gs.end()}});
    return b;
}

}  // namespace veil::test
