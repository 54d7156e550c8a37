#pragma once
// One plugin-owned thread that runs jobs in the order they were queued, and hands each job's
// completion back to the loop thread through a uv_async handle. This is how every SQL call
// stays off the loop thread while operations keep their order.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <uv.h>

namespace veil::sqlcipher {

/// A job runs on the store thread and returns what to run on the loop thread (may be empty).
using Job = std::function<std::function<void()>()>;

class StoreThread final {
public:
    /// Starts the thread. Loop thread.
    explicit StoreThread(uv_loop_t* loop);
    /// close() if still open.
    ~StoreThread();
    StoreThread(const StoreThread&) = delete;
    StoreThread& operator=(const StoreThread&) = delete;

    /// Queues a job (loop thread). Returns false, dropping the job, once close() has begun.
    [[nodiscard]] bool post(Job job);
    /// Runs `fn` on the store thread and waits for it, rethrowing what it threw. Only while the
    /// loop is not needed (e.g. in Plugin::start, before the loop runs).
    void call(const std::function<void()>& fn);
    /// Finishes the queued jobs, joins the thread, runs the completions still waiting (so each
    /// runs exactly once) and closes the async handle. Loop thread; idempotent.
    void close();

private:
    struct Shared;
    void run();
    static void drain(Shared& shared);
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
    bool closed_ = false;
};

}  // namespace veil::sqlcipher
