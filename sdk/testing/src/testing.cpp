#include "veil/sdk/testing.hpp"

#include <dlfcn.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/dll/shared_library.hpp>

#include "veil/sdk/config_file.hpp"

namespace veil::sdk::testing {

namespace fs = std::filesystem;

namespace {

// A new private directory (mkdtemp: created atomically, mode 0700, never an existing one).
fs::path fresh_temp_home() {
    std::string pattern = (fs::temp_directory_path() / "veil-harness-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("harness: cannot create a temporary HOME");
    return pattern;
}

// A plugin's config: its declared defaults with the test's values on top.
Config config_for(const PluginInfo& info, ConfigValues values) {
    auto merged = Config::defaults(std::string(info.name), info.config).values();
    for (auto& [key, value] : values) {
        if (!merged.contains(key)) {
            throw std::invalid_argument("harness: plugin '" + std::string(info.name) + "' has no config key '" + key + "'");
        }
        merged[key] = std::move(value);
    }
    return Config(std::string(info.name), std::move(merged));
}

// A plugin's config read from its table's TOML through the checker the kernel uses.
Config checked_config(const PluginInfo& info, std::string_view toml) {
    std::string name(info.name);
    auto doc = ConfigDocument::parse_text("[" + name + "]\n" + std::string(toml), "<test config>");
    if (!doc) throw std::invalid_argument(doc.error().message);
    std::vector<ConfigKeySpec> specs(info.config.begin(), info.config.end());
    // Every table also takes log_level, as in the kernel.
    if (std::none_of(specs.begin(), specs.end(), [](const auto& k) { return k.name == "log_level"; })) {
        specs.push_back({"log_level", ConfigType::string, "", "this plugin's log level"});
    }
    auto table = doc.value().table(name, specs);
    if (!table) throw std::invalid_argument(table.error().message);
    return table.value();
}

}  // namespace

Harness::Harness(fs::path home, std::optional<std::vector<std::string>> invocation) : home_(std::move(home)) {
    uv_loop_init(&loop_);
    bus_ = std::make_unique<Bus>(&loop_);
    commands_.set_invocation(std::move(invocation));
    if (home_.empty()) {
        home_ = fresh_temp_home();
        own_home_ = true;
    }
}

Harness::~Harness() { close(); }

Context& Harness::make_context(const std::string& name, Config config) {
    Context::Parts parts;
    parts.loop = &loop_;
    parts.bus = bus_.get();
    parts.commands = &commands_;
    parts.plugin_name = name;
    parts.config = std::move(config);
    parts.home_dir = home_;
    parts.request_stop = [this](int code) {
        if (!stop_code_) stop_code_ = code;
    };
    started_.push_back({nullptr, nullptr, std::make_unique<Context>(std::move(parts))});
    return *started_.back().context;
}

Plugin& Harness::start(const PluginDescriptor& descriptor, ConfigValues values) {
    return start_configured(descriptor, config_for(*descriptor.info, std::move(values)));
}

Plugin& Harness::start_toml(const PluginDescriptor& descriptor, std::string_view toml) {
    return start_configured(descriptor, checked_config(*descriptor.info, toml));
}

Plugin& Harness::load(const fs::path& so, std::string_view toml) {
    auto lib = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    lib->load(so, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    std::string who = "plugin file " + so.string();
    if (ec) {
        const char* why = ::dlerror();
        throw std::runtime_error(who + ": cannot load: " + (why ? why : ec.message()));
    }
    if (!lib->has("veil_plugin_descriptor")) {
        throw std::runtime_error(who + ": missing entry symbol 'veil_plugin_descriptor' (not built with VEIL_PLUGIN)");
    }
    const PluginDescriptor* d = lib->get_alias<DescriptorFn>("veil_plugin_descriptor")();
    libraries_.push_back(lib);  // kept until close() destroyed what it made
    if (auto status = check_descriptor(d, who); !status) throw std::runtime_error(status.error().message);
    return start_toml(*d, toml);
}

FakeMessenger& Harness::messenger() {
    if (!messenger_) messenger_ = std::make_unique<FakeMessenger>(*bus_);
    return *messenger_;
}

Plugin& Harness::start_configured(const PluginDescriptor& descriptor, Config config) {
    const PluginInfo& info = *descriptor.info;
    if (info.check_config) info.check_config(config);  // the plugin's own checks, as the kernel runs them
    Context& ctx = make_context(std::string(info.name), std::move(config));
    auto made = create_plugin(descriptor);
    if (!made) {
        started_.pop_back();
        throw std::runtime_error("harness: plugin '" + std::string(info.name) + "': " + made.error().message);
    }
    Plugin* plugin = made.value();
    started_.back().plugin = plugin;
    started_.back().descriptor = &descriptor;
    plugin->start(ctx);  // a throw leaves it unstarted: close() destroys it without stop()
    started_.back().running = true;
    return *plugin;
}

void Harness::start(Plugin& plugin, const std::string& name, Config config) {
    Context& ctx = make_context(name, std::move(config));
    started_.back().plugin = &plugin;
    plugin.start(ctx);
    started_.back().running = true;
}

void Harness::kernel_started() { bus_->publish(KernelStarted{}); }

bool Harness::run_until(const std::function<bool()>& done, std::uint64_t safety_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(safety_ms);
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    // Repeating, so a poll never waits without a deadline (a one-shot timer armed from a stale
    // loop time could fire before the poll).
    uv_timer_start(&tick, [](uv_timer_t*) {}, 5, 5);
    while (!done() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return done();
}

void Harness::run_for(std::uint64_t ms) {
    run_until([] { return false; }, ms);
}

int Harness::close() {
    if (closed_) return close_result_;
    closed_ = true;
    // The kernel's order: stop in reverse, drop every context, destroy the objects, close the bus.
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        if (it->plugin && it->running) it->plugin->stop();
    }
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) it->context.reset();
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        if (it->plugin && it->descriptor) it->descriptor->destroy(it->plugin);
    }
    started_.clear();
    messenger_.reset();
    bus_->close();
    bus_.reset();
    // Handles close asynchronously (some libraries take several turns): give them up to 2 s.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (uv_loop_alive(&loop_) && std::chrono::steady_clock::now() < deadline) {
        uv_run(&loop_, UV_RUN_NOWAIT);
        if (uv_loop_alive(&loop_)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    close_result_ = uv_loop_close(&loop_);
    libraries_.clear();  // last: nothing a loaded plugin made is alive any more
    if (own_home_) {
        std::error_code ignored;
        fs::remove_all(home_, ignored);
    }
    return close_result_;
}

}  // namespace veil::sdk::testing
