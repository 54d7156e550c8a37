#include "veil/sdk/timer.hpp"

#include "veil/sdk/log.hpp"

namespace veil::sdk {

// Heap part that libuv points at; freed in the close callback (code in libveil-sdk).
struct Timer::Handle {
    uv_timer_t uv{};
    std::function<void()> fn;
};

Timer::Timer(uv_loop_t* loop) : h_(new Handle) {
    uv_timer_init(loop, &h_->uv);
    h_->uv.data = h_;
}

Timer::~Timer() {
    uv_timer_stop(&h_->uv);
    h_->fn = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->uv),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(std::uint64_t delay_ms, std::uint64_t repeat_ms, std::function<void()> fn) {
    h_->fn = std::move(fn);
    uv_timer_start(
        &h_->uv,
        [](uv_timer_t* t) {
            auto* h = static_cast<Handle*>(t->data);
            if (!h->fn) return;
            // Copy: the callback may restart or destroy the timer.
            auto call = h->fn;
            try {
                call();
            } catch (const std::exception& e) {
                log::get("kernel")->error("timer callback threw: {}", e.what());
            } catch (...) {
                log::get("kernel")->error("timer callback threw a non-standard exception");
            }
        },
        delay_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(&h_->uv); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(&h_->uv)) != 0; }

void Timer::set_ref(bool keeps_loop_alive) {
    auto* h = reinterpret_cast<uv_handle_t*>(&h_->uv);
    if (keeps_loop_alive) {
        uv_ref(h);
    } else {
        uv_unref(h);
    }
}

}  // namespace veil::sdk
