#include "store_thread.hpp"

#include <exception>

namespace veil::sqlcipher {

// State shared with the uv_async handle, which may outlive this object until its close
// callback runs.
struct StoreThread::Shared {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;
    std::deque<std::function<void()>> done;
    bool stopping = false;
    uv_async_t* async = nullptr;
};

StoreThread::StoreThread(uv_loop_t* loop) : shared_(std::make_shared<Shared>()) {
    auto* a = new uv_async_t;
    a->data = new std::shared_ptr<Shared>(shared_);
    uv_async_init(loop, a, [](uv_async_t* h) { drain(**static_cast<std::shared_ptr<Shared>*>(h->data)); });
    shared_->async = a;
    thread_ = std::thread([this] { run(); });
}

StoreThread::~StoreThread() { close(); }

bool StoreThread::post(Job job) {
    std::lock_guard lock(shared_->mutex);
    if (closed_ || shared_->stopping) return false;
    shared_->jobs.push_back(std::move(job));
    shared_->wake.notify_one();
    return true;
}

void StoreThread::call(const std::function<void()>& fn) {
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    std::exception_ptr error;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->jobs.push_back([&]() -> std::function<void()> {
            try {
                fn();
            } catch (...) {
                error = std::current_exception();
            }
            // Notify under the lock: the waiter owns cv and may return as soon as it sees it.
            std::lock_guard done_lock(m);
            finished = true;
            cv.notify_one();
            return {};
        });
        shared_->wake.notify_one();
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return finished; });
    if (error) std::rethrow_exception(error);
}

void StoreThread::run() {
    auto& s = *shared_;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(s.mutex);
            s.wake.wait(lock, [&] { return s.stopping || !s.jobs.empty(); });
            if (s.jobs.empty()) return;  // stopping and nothing left
            job = std::move(s.jobs.front());
            s.jobs.pop_front();
        }
        std::function<void()> completion;
        try {
            completion = job();
        } catch (...) {
            // Jobs turn their failures into completions; one that throws anyway loses only itself.
        }
        if (!completion) continue;
        std::lock_guard lock(s.mutex);
        s.done.push_back(std::move(completion));
        uv_async_send(s.async);
    }
}

void StoreThread::drain(Shared& shared) {
    std::deque<std::function<void()>> ready;
    {
        std::lock_guard lock(shared.mutex);
        ready.swap(shared.done);
    }
    for (auto& fn : ready) fn();
}

void StoreThread::close() {
    if (closed_) return;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopping = true;
        shared_->wake.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    closed_ = true;
    drain(*shared_);
    uv_close(reinterpret_cast<uv_handle_t*>(shared_->async), [](uv_handle_t* h) {
        delete static_cast<std::shared_ptr<Shared>*>(h->data);
        delete reinterpret_cast<uv_async_t*>(h);
    });
    shared_->async = nullptr;
}

}  // namespace veil::sqlcipher
