#include "kernel.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/log.hpp"
#include "veil/sdk/plugin.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::kernel {

namespace fs = std::filesystem;
using sdk::Error;
using sdk::ErrorCode;

namespace {
constexpr sdk::ConfigKeySpec kKernelKeys[] = {
    {"plugins", sdk::ConfigType::string_list, "[]", "plugins to enable, by name"},
    {"plugin_dirs", sdk::ConfigType::string_list, "[]",
     "extra plugin directories searched first (relative to the config file)"},
    {"home", sdk::ConfigType::string, "", "data directory (default $XDG_DATA_HOME/veil); --home overrides"},
    {"log_level", sdk::ConfigType::string, "info", "trace, debug, info, warn, error, critical or off"},
    {"bus_max_queued", sdk::ConfigType::integer, "65536", "bound of the bus queue, in messages"},
};

// Kernel-internal: delivered after every KernelStopping handler (FIFO), then we stop.
struct ShutdownNow {
    static constexpr std::string_view topic = "veil.kernel.shutdown-now";
};

constexpr std::string_view kLogLevelKey = "log_level";


const char* plugin_path_env() {
    const char* env = std::getenv("VEIL_PLUGIN_PATH");
    return env && *env ? env : nullptr;
}

fs::path default_home() {
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "veil";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".local/share/veil";
    return fs::current_path() / ".veil";
}

// Without --config, a HOME made by `veil init` brings its own config: HOME/veil.toml.
std::optional<std::string> home_config(const std::optional<std::string>& home) {
    std::error_code ec;
    auto file = (home ? fs::path(*home) : default_home()) / "veil.toml";
    if (fs::is_regular_file(file, ec)) return file.string();
    return std::nullopt;
}

bool has_command(const LoadedPlugin* p, std::string_view cmd) {
    const auto& c = p->info().commands;
    return std::find(c.begin(), c.end(), cmd) != c.end();
}
}  // namespace

std::span<const sdk::ConfigKeySpec> kernel_keys() { return kKernelKeys; }

// VEIL_STATIC_CXX_RUNTIME (static-client, static-node): this executable has its own libstdc++ and
// unwinder, so a dlopen'd plugin would bring a second C++ runtime and abort on its first
// exception. Such a veil runs its built-in plugins only and searches no directory.
PluginDirs build_plugin_dirs() {
#ifdef VEIL_NO_PLUGIN_DIRS
    return PluginDirs::refused;
#else
    return PluginDirs::searched;
#endif
}

const char* builtin_config() {
    return "# Built-in config: used when no --config is given.\n"
           "[kernel]\n"
           "plugins = [\"cli\"]\n";
}

struct Kernel::Running {
    struct Active {
        const LoadedPlugin* plugin;
        std::unique_ptr<sdk::Context> ctx;
        sdk::Plugin* instance = nullptr;
        bool started = false;
    };
    std::unique_ptr<sdk::Bus> bus;
    std::vector<Active> active;
    uv_signal_t sigint{}, sigterm{};
    std::unique_ptr<sdk::Timer> stop_timer;
    sdk::Subscription shutdown_sub;
};

Kernel::Kernel(Args args, fs::path exe_dir, PluginDirs plugin_dirs)
    : args_(std::move(args)), exe_dir_(std::move(exe_dir)), plugin_dirs_(plugin_dirs) {}

Kernel::~Kernel() = default;

int Kernel::fail(const std::string& message, int code) {
    std::fprintf(stderr, "veil: %s\n", message.c_str());
    return code;
}

std::vector<fs::path> Kernel::search_dirs(const sdk::Config& kernel_table, const fs::path& base) const {
    std::vector<fs::path> dirs;
    if (plugin_dirs_ == PluginDirs::refused) return dirs;
    for (const auto& d : kernel_table.get_strings("plugin_dirs")) {
        fs::path p(d);
        dirs.push_back(p.is_relative() && !base.empty() ? base / p : p);
    }
    if (const char* env = plugin_path_env()) {
        std::string_view s(env);
        while (!s.empty()) {
            auto colon = s.find(':');
            auto part = s.substr(0, colon);
            if (!part.empty()) dirs.emplace_back(std::string(part));
            if (colon == std::string_view::npos) break;
            s.remove_prefix(colon + 1);
        }
    }
    // A static build is self-contained: it searches no default directory.
    if (static_plugins().empty()) dirs.push_back((exe_dir_ / ".." / "lib" / "veil" / "plugins").lexically_normal());
    return dirs;
}

sdk::Result<Plan> Kernel::prepare(const std::optional<std::string>& file, const std::vector<std::string>& overrides,
                                  const std::vector<std::string>& command) {
    auto parsed = file ? sdk::ConfigDocument::parse_file(*file)
                       : sdk::ConfigDocument::parse_text(builtin_config(), "<built-in config>");
    if (!parsed) return parsed.error();
    auto doc = std::move(parsed).value();
    for (const auto& o : overrides) {
        if (auto s = doc.set(o); !s) return s.error();
    }
    std::string problems;
    auto add = [&](const std::string& p) { problems += (problems.empty() ? "" : "\n") + p; };
    for (const auto& s : doc.stray_entries()) add(s);
    auto kt = doc.table("kernel", kKernelKeys);
    if (!kt) {
        add(kt.error().message);
        return Error{ErrorCode::bad_input, problems};
    }
    Plan plan;
    plan.kernel = kt.value();
    plan.home = args_.home ? fs::path(*args_.home)
                           : (plan.kernel.get_string("home").empty() ? default_home() : fs::path(plan.kernel.get_string("home")));
    if (plugin_dirs_ == PluginDirs::refused && (!plan.kernel.get_strings("plugin_dirs").empty() || plugin_path_env()))
        return Error{ErrorCode::bad_input,
                     "this veil links its C++ runtime statically and loads no plugin from a directory "
                     "(a plugin would bring a second runtime): remove kernel.plugin_dirs and unset "
                     "VEIL_PLUGIN_PATH, or use a build without VEIL_STATIC_CXX_RUNTIME"};
    host_ = std::make_unique<PluginHost>(search_dirs(plan.kernel, doc.base_dir()));

    std::vector<std::string> names = plan.kernel.get_strings("plugins");
    auto enable = [&](const std::string& n) {
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    };
    if (!command.empty()) {
        enable("cli");  // a command needs the dispatcher
        const std::string& cmd = command.front();
        if (!commands_.find(cmd)) {
            // Enable the plugin that declares this command, unless an enabled one does.
            bool declared = false;
            for (const auto& n : names) {
                auto p = host_->load(n);
                if (p && has_command(p.value(), cmd)) declared = true;
            }
            for (const auto& [n, c] : host_->candidates()) {
                if (declared) break;
                auto p = host_->load(n);
                if (p && has_command(p.value(), cmd)) {
                    enable(n);
                    declared = true;
                }
            }
        }
    }
    std::vector<const LoadedPlugin*> enabled;
    std::vector<std::string> failed;  // reported once, even if they also have a table
    for (const auto& n : names) {
        auto p = host_->load(n);
        if (!p) {
            add(p.error().message);
            failed.push_back(n);
            continue;
        }
        enabled.push_back(p.value());
    }
    // Every table must belong to the kernel or to a plugin that exists; validate each.
    auto validate = [&](const LoadedPlugin* p) -> std::optional<sdk::Config> {
        std::vector<sdk::ConfigKeySpec> specs(p->info().config.begin(), p->info().config.end());
        bool own_level = std::any_of(specs.begin(), specs.end(), [](const auto& s) { return s.name == kLogLevelKey; });
        if (!own_level) {
            specs.push_back({kLogLevelKey, sdk::ConfigType::string, "", "this plugin's log level (default: kernel.log_level)"});
        }
        auto t = doc.table(p->info().name, specs);
        if (!t) {
            add(t.error().message);
            return std::nullopt;
        }
        if (auto check = p->info().check_config) {
            try {
                check(t.value());
            } catch (const std::exception& e) {
                add(doc.source() + ":" + std::to_string(doc.line_of(p->info().name)) + ": [" +
                    std::string(p->info().name) + "] " + e.what());
                return std::nullopt;
            }
        }
        return t.value();
    };
    for (const auto& t : doc.tables()) {
        if (t == "kernel" || std::find(failed.begin(), failed.end(), t) != failed.end()) continue;
        if (std::any_of(enabled.begin(), enabled.end(), [&](auto* p) { return p->info().name == t; })) continue;
        if (!host_->candidates().count(t)) {
            add(doc.source() + ":" + std::to_string(doc.line_of(t)) + ": table [" + t +
                "] names no kernel part or known plugin");
            continue;
        }
        auto p = host_->load(t);
        if (!p) {
            add(p.error().message);
            continue;
        }
        validate(p.value());
    }
    std::vector<sdk::Config> configs;
    for (auto* p : enabled) {
        auto c = validate(p);
        if (c) configs.push_back(std::move(*c));
    }
    if (!problems.empty()) return Error{ErrorCode::bad_input, problems};
    auto ordered = host_->order(enabled);
    if (!ordered && !file && !command.empty()) {
        // The usual cause: a client command in a HOME that was never set up.
        return Error{ordered.error().code, ordered.error().message + ": " + plan.home.string() +
                                               " has no veil.toml (a client's HOME is set up by veil init --home HOME "
                                               "--network FILE)"};
    }
    if (!ordered) return ordered.error();
    plan.order = ordered.value();
    for (auto* p : plan.order) {
        auto idx = static_cast<std::size_t>(std::find(enabled.begin(), enabled.end(), p) - enabled.begin());
        plan.configs.push_back(configs[idx]);
    }
    return plan;
}

void Kernel::request_stop(int code) {
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = code;
    running_->bus->publish(sdk::KernelStopping{code});
    // A full queue must not prevent shutdown: stop directly then.
    if (!running_->bus->publish(ShutdownNow{})) running_->stop_timer->start(0, 0, [this] { shutdown(); });
}

void Kernel::shutdown() {
    auto& r = *running_;
    for (auto it = r.active.rbegin(); it != r.active.rend(); ++it) {
        if (!it->started) continue;
        try {
            it->instance->stop();
        } catch (const std::exception& e) {
            sdk::log::get("kernel")->error("plugin '{}' threw in stop: {}", it->plugin->info().name, e.what());
        } catch (...) {
            sdk::log::get("kernel")->error("plugin '{}' threw in stop", it->plugin->info().name);
        }
        it->started = false;
    }
    // Nothing a plugin made may run any more: drop bus callbacks, then contexts, then objects.
    r.shutdown_sub.reset();
    r.bus->close();
    for (auto it = r.active.rbegin(); it != r.active.rend(); ++it) it->ctx.reset();
    for (auto it = r.active.rbegin(); it != r.active.rend(); ++it) {
        if (it->instance) it->plugin->descriptor->destroy(it->instance);
        it->instance = nullptr;
    }
    r.stop_timer.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&r.sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&r.sigterm), nullptr);
}

int Kernel::run() {
    spdlog::level::level_enum level = spdlog::level::info;
    auto plan_r = [&] {
        register_builtins();
        if (!args_.command.empty()) commands_.set_invocation(args_.command);
        return prepare(args_.config_file ? args_.config_file : home_config(args_.home), args_.overrides,
                       args_.command);
    }();
    if (!plan_r) return help_anyway(plan_r.error().message);
    Plan plan = std::move(plan_r).value();

    // Logging: kernel.log_level, then --log-level, then -v; plugin tables may set their own.
    if (!sdk::log::parse_level(plan.kernel.get_string("log_level"), level)) {
        return fail("kernel.log_level: unknown level '" + plan.kernel.get_string("log_level") + "'");
    }
    if (args_.log_level && !sdk::log::parse_level(*args_.log_level, level)) {
        return fail("--log-level: unknown level '" + *args_.log_level + "'");
    }
    if (args_.verbosity == 1) level = spdlog::level::debug;
    if (args_.verbosity >= 2) level = spdlog::level::trace;
    sdk::log::set_default_level(level);
    for (const auto& c : plan.configs) {
        const auto& own = c.get_string(std::string(kLogLevelKey));
        spdlog::level::level_enum l;
        if (own.empty()) continue;
        if (!sdk::log::parse_level(own, l)) return fail(c.table_name() + ".log_level: unknown level '" + own + "'");
        if (args_.verbosity == 0) sdk::log::set_level(c.table_name(), l);
    }
    auto log = sdk::log::get("kernel");

    // A peer that closes a socket mid-write must cost one connection (EPIPE), not the process.
    std::signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop_);
    running_ = std::make_unique<Running>();
    auto& r = *running_;
    r.bus = std::make_unique<sdk::Bus>(&loop_, sdk::BusOptions{static_cast<std::size_t>(
                                                    std::max<std::int64_t>(16, plan.kernel.get_int("bus_max_queued")))});
    r.stop_timer = std::make_unique<sdk::Timer>(&loop_);
    r.shutdown_sub = r.bus->subscribe<ShutdownNow>([this](const ShutdownNow&) {
        // Not inside the bus dispatch: stop from a timer callback.
        running_->stop_timer->start(0, 0, [this] { shutdown(); });
    });
    uv_signal_init(&loop_, &r.sigint);
    uv_signal_init(&loop_, &r.sigterm);
    r.sigint.data = r.sigterm.data = this;
    auto on_signal = [](uv_signal_t* s, int signum) {
        auto* k = static_cast<Kernel*>(s->data);
        sdk::log::get("kernel")->info("signal {}: stopping", signum);
        k->request_stop(0);
    };
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);

    // Start in dependency order; the first failure stops what started, in reverse.
    bool ok = true;
    for (std::size_t i = 0; i < plan.order.size() && ok; ++i) {
        const LoadedPlugin* p = plan.order[i];
        std::string name(p->info().name);
        sdk::Context::Parts parts;
        parts.loop = &loop_;
        parts.bus = r.bus.get();
        parts.commands = &commands_;
        parts.plugin_name = name;
        parts.config = plan.configs[i];
        parts.home_dir = plan.home;
        parts.request_stop = [this](int code) { request_stop(code); };
        r.active.push_back({p, std::make_unique<sdk::Context>(std::move(parts)), nullptr, false});
        auto& a = r.active.back();
        auto made = sdk::create_plugin(*p->descriptor);
        if (!made) {
            start_error_ = "plugin '" + name + "': " + made.error().message;
            if (!asks_for_help()) fail(start_error_ + disable_hint(name));
            ok = false;
            break;
        }
        a.instance = made.value();
        try {
            a.instance->start(*a.ctx);
            a.started = true;
            log->debug("started {} {}", name, p->info().version);
        } catch (const std::exception& e) {
            start_error_ = "plugin '" + name + "' failed to start: " + e.what();
            if (!asks_for_help()) fail(start_error_ + disable_hint(name));
            ok = false;
        } catch (...) {
            fail("plugin '" + name + "' failed to start (non-standard exception)" + disable_hint(name));
            ok = false;
        }
    }
    if (!ok) {
        stopping_ = true;
        exit_code_ = asks_for_help() ? help_anyway(start_error_) : 1;
        shutdown();
    } else {
        log->debug("kernel ready: {} plugin(s)", plan.order.size());
        r.bus->publish(sdk::KernelStarted{});
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (!stopping_) {
        // The loop ran dry (nothing left to do): stop cleanly.
        stopping_ = true;
        shutdown();
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    running_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop_) != 0) {
        log->error("a plugin left libuv handles open at exit");
        uv_walk(&loop_, [](uv_handle_t* h, void*) {
            sdk::log::get("kernel")->error("  open handle: {}", uv_handle_type_name(uv_handle_get_type(h)));
        }, nullptr);
        if (exit_code_ == 0) exit_code_ = 1;
    }
    return exit_code_;
}

// `veil CMD ... --help` (before any `--`): answered by the cli once the command's plugin started.
bool Kernel::asks_for_help() const {
    for (std::size_t i = 1; i < args_.command.size(); ++i) {
        if (args_.command[i] == "--") return false;
        if (args_.command[i] == "--help" || args_.command[i] == "-h") return true;
    }
    return false;
}

// A help request whose plugin cannot start here (no config for it yet) still gets a usage line
// and exit 0, with the reason its full usage is missing; anything else fails as before.
int Kernel::help_anyway(const std::string& error) {
    if (!asks_for_help()) return fail(error);
    std::printf("usage: veil %s ...\n  (its plugin cannot start with this configuration, so its full usage is not "
                "known here:\n  %s)\n", args_.command.front().c_str(), error.c_str());
    return 0;
}

// Where a plugin that broke every command on this HOME was enabled, and how to run without it.
std::string Kernel::disable_hint(const std::string& name) const {
    auto file = args_.config_file ? args_.config_file : home_config(args_.home);
    if (!file) return "";  // enabled by the command itself: nothing else needs it
    return "\n  (to run without it, remove \"" + name + "\" from kernel.plugins in " + *file + ")";
}

void Kernel::register_builtins() { register_builtin_commands(*this, commands_); }

}  // namespace veil::kernel
