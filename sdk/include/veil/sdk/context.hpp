#pragma once
/// What a plugin receives in start(): the kernel's services, scoped to that plugin.
/// The kernel creates one Context per plugin before start() and destroys it after stop();
/// everything registered through it (subscriptions, servers, timers, commands, pending worker
/// completions) is released then, before the plugin object and long before its library.
/// All members are loop-thread only unless marked otherwise.

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <uv.h>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/commands.hpp"
#include "veil/sdk/config.hpp"
#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// Published by the kernel once every enabled plugin has started (the command dispatcher
/// waits for it). Past tense: an event.
struct KernelStarted {
    static constexpr std::string_view topic = "veil.kernel.started";
};

/// Published by the kernel when shutdown begins (signal or request_stop), before any stop().
struct KernelStopping {
    static constexpr std::string_view topic = "veil.kernel.stopping";
    int exit_code = 0;  ///< the code the process will exit with
};

/// Identifies a timer made with Context::set_timeout / set_interval.
using TimerId = std::uint64_t;

/// Per-plugin view of the kernel. Not copyable; owned by the kernel (or a test harness).
class VEIL_SDK_API Context final {
public:
    /// Everything a Context needs; the kernel fills it, plugin tests may too.
    struct Parts {
        uv_loop_t* loop = nullptr;                       ///< the kernel's loop
        Bus* bus = nullptr;                              ///< outlives the Context
        CommandRegistry* commands = nullptr;             ///< outlives the Context
        std::string plugin_name;                         ///< the owning plugin
        Config config;                                   ///< its validated table
        std::filesystem::path home_dir;                  ///< --home / kernel.home
        std::function<void(int)> request_stop;           ///< asks the kernel to shut down
    };
    explicit Context(Parts parts);
    /// Cancels timers, subscriptions, servers, commands and pending worker completions.
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    /// The libuv loop; handles a plugin opens itself it must close in stop().
    [[nodiscard]] uv_loop_t* loop() const;
    /// The plugin's logger (named after the plugin). Thread-safe.
    [[nodiscard]] spdlog::logger& log() const;
    /// Shared pointer to the same logger, for objects that outlive a call (thread-safe).
    [[nodiscard]] std::shared_ptr<spdlog::logger> logger() const;
    /// The plugin's validated config table (immutable, thread-safe).
    [[nodiscard]] const Config& config() const;
    /// The bus (see bus.hpp for which calls are thread-safe).
    [[nodiscard]] Bus& bus() const;
    /// The plugin's name.
    [[nodiscard]] const std::string& plugin_name() const;
    /// The home directory (--home, default $XDG_DATA_HOME/veil). Not created by the kernel.
    [[nodiscard]] const std::filesystem::path& home_dir() const;
    /// HOME/<plugin name>, created (0700) on first call. Throws std::filesystem_error.
    [[nodiscard]] const std::filesystem::path& data_dir();

    /// Subscribes for the lifetime of this Context. A handler that throws is reported naming
    /// this plugin; the bus goes on delivering.
    template <BusMessage M>
    void on(std::function<void(const M&)> handler) {
        keep(bus().subscribe<M>([this, h = std::move(handler)](const M& m) {
            try {
                h(m);
            } catch (const std::exception& e) {
                report_throw("handler", M::topic, e.what());
                throw;
            }
        }));
    }
    /// Serves a request for the lifetime of this Context (see Bus::serve). A server that throws
    /// is reported naming this plugin (the requester gets handler_failed).
    template <BusRequest R>
    void serve(std::function<void(const R&, Responder<typename R::Reply>)> handler,
               std::string_view route = {}) {
        keep(bus().serve<R>(
            [this, h = std::move(handler)](const R& r, Responder<typename R::Reply> responder) {
                try {
                    h(r, std::move(responder));
                } catch (const std::exception& e) {
                    report_throw("server", R::topic, e.what());
                    throw;
                }
            },
            route));
    }
    /// Logs "plugin 'NAME': WHAT for 'TOPIC' threw: MESSAGE" on the kernel's logger.
    void report_throw(std::string_view what, std::string_view topic, std::string_view message) const;
    /// Keeps any subscription until this Context is destroyed.
    void keep(Subscription subscription);

    /// Runs `fn` once after `delay_ms` (on the loop thread). Exceptions are logged.
    TimerId set_timeout(std::uint64_t delay_ms, std::function<void()> fn);
    /// Runs `fn` every `period_ms` until cancelled.
    TimerId set_interval(std::uint64_t period_ms, std::function<void()> fn);
    /// Cancels a timer; unknown or finished ids are ignored.
    void cancel_timer(TimerId id);

    /// Runs `work` on libuv's worker pool, then `done` on the loop thread with the exception
    /// `work` threw (or nullptr). `work` must not touch loop-thread state or the plugin object:
    /// capture what it needs by value. If the Context is gone first, `done` is not called.
    void run_blocking(std::function<void()> work, std::function<void(std::exception_ptr)> done);

    /// Registers a CLI subcommand, removed when this Context is destroyed. Throws
    /// std::invalid_argument if the name is taken (reported as this plugin's start error).
    void add_command(Command command);
    /// The command registry (read-only use: invocation(), find(), list()).
    [[nodiscard]] CommandRegistry& commands() const;

    /// Asks the kernel to stop every plugin and exit with `exit_code`. Any later call keeps
    /// the first code. Loop thread only.
    void request_stop(int exit_code);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace veil::sdk
