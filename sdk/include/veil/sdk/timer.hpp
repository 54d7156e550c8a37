#pragma once
/// A one-shot or repeating libuv timer owned by one object. Loop thread only.
/// Destroying the Timer stops it; the callback never runs afterwards. The uv handle itself is
/// freed by libveil-sdk after libuv closes it, so a Timer may die inside its own callback.

#include <cstdint>
#include <functional>

#include <uv.h>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// RAII wrapper over uv_timer_t. Create, use and destroy on the loop thread.
class VEIL_SDK_API Timer final {
public:
    /// A stopped timer on `loop`.
    explicit Timer(uv_loop_t* loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// Runs `fn` once after `delay_ms`, then every `repeat_ms` if non-zero. Replaces any
    /// previous schedule. An exception thrown by `fn` is caught and logged ("kernel" logger).
    void start(std::uint64_t delay_ms, std::uint64_t repeat_ms, std::function<void()> fn);
    /// Stops the timer; it can be started again.
    void stop();
    /// True while scheduled.
    [[nodiscard]] bool active() const;
    /// Keeps the loop from exiting while this timer is the only handle (default true).
    void set_ref(bool keeps_loop_alive);

private:
    struct Handle;
    Handle* h_;
};

}  // namespace veil::sdk
