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
///
/// Also: start_toml() (config through the real checker), load() (a built .so, as the kernel
/// loads it) and messenger() (a fake messenger for bots).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include <uv.h>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/commands.hpp"
#include "veil/sdk/config.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::sdk::testing {

/// Config values by key, overriding a plugin's declared defaults.
using ConfigValues = std::map<std::string, ConfigValue, std::less<>>;

class Harness;

/// Serves the messenger contract (veil/sdk/messenger.hpp) on a harness's bus as one account
/// would, so a bot can be tested without a network: GetProfile, SendMessage (checked as the
/// messenger checks it, recorded, answered with the queued message and announced with
/// MessageAdded like the real one, which also accepts a pending request from the recipient),
/// ListContacts, SaveContact, AcceptRequest, SetBlocked and MarkRead. Other requests get
/// no_handler. Get it from Harness::messenger(); the harness owns it.
class FakeMessenger final {
public:
    /// Own Veil ID of the fake account (66 hex chars).
    static constexpr std::string_view kOwnId =
        "05aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    explicit FakeMessenger(Bus& bus);
    /// A text arrives from `from` (66 hex chars): published as MessageAdded, as incoming. A
    /// sender that is no accepted contact makes it a message request.
    messenger::Message receive(const std::string& from, const std::string& text);
    /// Every SendMessage a plugin made, accepted or not, in order.
    [[nodiscard]] const std::vector<messenger::SendMessage>& sent() const { return sent_; }
    /// Contacts as the fake account knows them (senders of requests included).
    [[nodiscard]] const std::vector<messenger::Contact>& contacts() const { return contacts_; }

private:
    messenger::Contact& contact(const std::string& id);
    messenger::Message make(const std::string& peer, const std::string& from, const std::string& text);

    Bus& bus_;
    std::vector<Subscription> served_;
    std::vector<messenger::SendMessage> sent_;
    std::vector<messenger::Contact> contacts_;
    std::uint64_t next_id_ = 1;
};

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
    /// Starts the descriptor's plugin with its table read from `toml` (the keys of the plugin's
    /// table, without its `[name]` header) through the real config checker: unknown keys, wrong
    /// types and missing required keys throw std::invalid_argument with the messages
    /// `veil config check` prints (source "<test config>", the snippet starting at line 2).
    /// Then the plugin's own check_config runs, as before every start.
    Plugin& start_toml(const PluginDescriptor& descriptor, std::string_view toml);
    /// Loads a built plugin (`veil-plugin-NAME.so`) as the kernel does: its entry symbol, SDK
    /// ABI version and build key are checked (std::runtime_error with the kernel's message when
    /// refused); then its config is checked and it is started as start_toml(). The library stays
    /// loaded until close() has destroyed the plugin.
    Plugin& load(const std::filesystem::path& so, std::string_view toml = {});
    /// The fake messenger serving the messenger contract on this bus (made on first use).
    FakeMessenger& messenger();

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
        bool running = false;  ///< start() returned: stop() is due
    };
    Context& make_context(const std::string& name, Config config);
    Plugin& start_configured(const PluginDescriptor& descriptor, Config config);

    uv_loop_t loop_{};
    std::unique_ptr<Bus> bus_;
    CommandRegistry commands_;
    std::filesystem::path home_;
    bool own_home_ = false;
    std::vector<Started> started_;
    std::unique_ptr<FakeMessenger> messenger_;
    std::vector<std::shared_ptr<void>> libraries_;  ///< loaded .so files, released last
    std::optional<int> stop_code_;
    bool closed_ = false;
    int close_result_ = 0;
};

}  // namespace veil::sdk::testing
