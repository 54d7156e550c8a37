#pragma once
/// A kernel in miniature for plugin tests, in tree and out of tree: a libuv loop, a Bus, a
/// CommandRegistry, and the plugins a test starts on them, each with its own Context, as the
/// kernel would. Link VeilSDK::testing. Everything runs on the test's thread (the loop thread).
///
///   veil::sdk::testing::Harness h;                       // HOME is a fresh temp dir
///   h.start(*veil_static_plugin_greeter(), {{"greeting", "hi"}});
///   h.kernel_started();                                  // as the kernel does once all started
///   bool ok = h.run_until([&] { return got_reply; });    // a safety deadline, not a timing test
///   REQUIRE(h.close() == 0);                             // nothing leaked on the loop

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/commands.hpp"
#include "veil/sdk/config.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::sdk::testing {

/// Config values by key, overriding a plugin's declared defaults.
using ConfigValues = std::map<std::string, ConfigValue, std::less<>>;

class Harness final {
public:
    /// `home` is the HOME every Context sees; empty: a fresh temporary directory, removed by
    /// close(). `invocation` is what `veil COMMAND ARGS...` would set (nullopt: `veil daemon`-like
    /// resident run with no command); plugins read it from ctx.commands().invocation().
    explicit Harness(std::filesystem::path home = {},
                     std::optional<std::vector<std::string>> invocation = std::nullopt);
    /// Calls close().
    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    [[nodiscard]] uv_loop_t* loop() { return &loop_; }
    [[nodiscard]] Bus& bus() { return *bus_; }
    [[nodiscard]] CommandRegistry& commands() { return commands_; }
    [[nodiscard]] const std::filesystem::path& home() const { return home_; }

    /// Creates the descriptor's plugin and starts it with its declared config defaults
    /// overridden by `values` (unknown keys are an error, as in a config file). Returns the
    /// plugin; the harness owns it. Throws what create() or start() throws.
    Plugin& start(const PluginDescriptor& descriptor, ConfigValues values = {});
    /// Starts a plugin object the test owns (it must outlive close()).
    void start(Plugin& plugin, const std::string& name, Config config = {});
    /// Publishes KernelStarted, as the kernel does once every plugin started (the cli and
    /// resident plugins wait for it).
    void kernel_started();

    /// Runs the loop until done() holds or `safety_ms` passed; returns done(). The loop keeps
    /// ticking although the bus's wake-up handle does not keep it alive on its own.
    bool run_until(const std::function<bool()>& done, std::uint64_t safety_ms = 20'000);
    /// Runs the loop for about `ms` milliseconds.
    void run_for(std::uint64_t ms);
    /// The exit code a plugin asked for with Context::request_stop(), if one did.
    [[nodiscard]] std::optional<int> stop_requested() const { return stop_code_; }

    /// Stops the plugins in reverse order, destroys their contexts and objects, closes the bus
    /// and the loop. Returns uv_loop_close()'s result: 0 when nothing was left open. Idempotent.
    int close();

private:
    struct Started {
        Plugin* plugin = nullptr;
        const PluginDescriptor* descriptor = nullptr;  ///< null for a test-owned plugin
        std::unique_ptr<Context> context;
    };
    Context& make_context(const std::string& name, Config config);

    uv_loop_t loop_{};
    std::unique_ptr<Bus> bus_;
    CommandRegistry commands_;
    std::filesystem::path home_;
    bool own_home_ = false;
    std::vector<Started> started_;
    std::optional<int> stop_code_;
    bool closed_ = false;
    int close_result_ = 0;
};

}  // namespace veil::sdk::testing
