#pragma once
// A libuv loop for one test: run until a condition holds (bounded by a safety deadline, not a
// timed assertion), and close it at the end checking uv_loop_close() == 0.
#include <uv.h>

#include <chrono>
#include <functional>

namespace veil::test {

class TestLoop {
public:
    TestLoop() { uv_loop_init(&loop_); }
    ~TestLoop() { close(); }
    TestLoop(const TestLoop&) = delete;
    TestLoop& operator=(const TestLoop&) = delete;
    uv_loop_t* get() { return &loop_; }

    /// Runs the loop until `done()` is true or `safety_ms` passed; returns done().
    bool run_until(const std::function<bool()>& done, int safety_ms = 20000) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(safety_ms);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            uv_timer_t tick;
            uv_timer_init(&loop_, &tick);
            // Repeating: a one-shot tick armed from a stale loop time can fire before the poll,
            // which would then wait for I/O with no deadline.
            uv_timer_start(&tick, [](uv_timer_t*) {}, 5, 5);
            uv_run(&loop_, UV_RUN_ONCE);
            uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
            uv_run(&loop_, UV_RUN_NOWAIT);
        }
        return done();
    }
    /// Lets pending close callbacks run, then closes the loop; returns uv_loop_close's result.
    int close() {
        if (closed_) return 0;
        for (int i = 0; i < 10; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
        closed_ = true;
        return uv_loop_close(&loop_);
    }

private:
    uv_loop_t loop_{};
    bool closed_ = false;
};

}  // namespace veil::test
