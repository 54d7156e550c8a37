// The kernel's own commands: version, plugins, config check, help.
#include <algorithm>
#include <cstdio>

#include "kernel.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::kernel {

namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

void cmd_version(const sdk::CommandCall& call) {
    char abi[16];
    std::snprintf(abi, sizeof abi, "%08x", sdk::kAbiVersion);
    call.out(std::string("veil ") + sdk::kSdkVersion + " (sdk abi " + abi + ", " + VEIL_SDK_BUILD_KEY + ", " +
             (static_plugins().empty() ? "dynamic plugins" : "static plugins") + ")\n");
    call.finish(sdk::exit_code::ok);
}

void cmd_plugins(Kernel& k, const sdk::CommandCall& call) {
    bool keys = std::find(call.args().begin(), call.args().end(), "--keys") != call.args().end();
    auto& host = k.host();
    std::string out = pad("NAME", 18) + pad("VERSION", 10) + pad("KIND", 11) + "DESCRIPTION\n";
    int failures = 0;
    for (const auto& [name, cand] : host.candidates()) {
        auto p = host.load(name);
        if (!p) {
            call.err("veil plugins: " + p.error().message + "\n");
            ++failures;
            continue;
        }
        const auto& info = p.value()->info();
        out += pad(name, 18) + pad(std::string(info.version), 10) + pad(std::string(sdk::to_string(info.kind)), 11) +
               std::string(info.description) + (cand.static_entry ? " [static]" : "") + "\n";
        if (keys) {
            auto list = [](std::span<const std::string_view> items) {
                std::string s;
                for (auto i : items) s += (s.empty() ? "" : ", ") + std::string(i);
                return s.empty() ? std::string("-") : s;
            };
            out += "    provides: " + list(info.provides) + "; requires: " + list(info.requires_) + "\n";
            // The key column is as wide as the longest key, so no name runs into its type.
            std::size_t width = 22;
            for (const auto& key : info.config) width = std::max(width, key.name.size() + 2);
            for (const auto& key : info.config) {
                out += "    " + pad(std::string(key.name), width) + pad(std::string(sdk::to_string(key.type)), 18) +
                       (key.required ? "required" : "= " + std::string(key.default_value)) + "  " +
                       std::string(key.doc) + "\n";
            }
        }
    }
    out += "search path:";
    for (const auto& d : host.search_dirs()) out += " " + d.string();
    if (host.search_dirs().empty()) out += " (none: static build)";
    call.out(out + "\n");
    call.finish(failures ? sdk::exit_code::failure : sdk::exit_code::ok);
}

void cmd_config(Kernel& k, const sdk::CommandCall& call) {
    const auto& a = call.args();
    if (a.size() < 2 || a[0] != "check") {
        call.fail("usage: veil config check FILE [--set TABLE.KEY=VALUE]...");
        return;
    }
    std::vector<std::string> overrides;
    for (std::size_t i = 2; i < a.size(); ++i) {
        if (a[i] == "--set" && i + 1 < a.size()) {
            overrides.push_back(a[++i]);
        } else {
            call.fail("veil config check: unexpected argument '" + a[i] + "'");
            return;
        }
    }
    // A separate kernel so the running config's host is not replaced.
    Kernel checker(Args{}, k.exe_dir());
    auto plan = checker.prepare(a[1], overrides, {});
    if (!plan) {
        call.err(plan.error().message + "\n");
        call.finish(sdk::exit_code::failure);
        return;
    }
    std::string names;
    for (auto* p : plan.value().order) names += (names.empty() ? "" : ", ") + std::string(p->info().name);
    call.out(a[1] + ": ok (plugins in start order: " + (names.empty() ? "none" : names) + ")\n");
    call.finish(sdk::exit_code::ok);
}

void cmd_help(Kernel& k, sdk::CommandRegistry& registry, const sdk::CommandCall& call) {
    std::string out = usage_text();
    out += "\ncommands:\n";
    std::vector<std::string> listed;
    for (const auto& e : registry.list()) {
        out += "  " + pad(e.usage.empty() ? e.name : e.usage, 44) + e.summary + "\n";
        listed.push_back(e.name);
    }
    // Commands of plugins that are found but not enabled (veil enables them on use).
    for (const auto& [name, cand] : k.host().candidates()) {
        auto p = k.host().load(name);
        if (!p) continue;
        for (auto c : p.value()->info().commands) {
            if (std::find(listed.begin(), listed.end(), c) != listed.end()) continue;
            out += "  " + pad(std::string(c) + " ...", 44) + "(plugin " + name + "; 'veil " + std::string(c) +
                   " --help')\n";
            listed.emplace_back(c);
        }
    }
    call.out(out);
    call.finish(sdk::exit_code::ok);
}

}  // namespace

void register_builtin_commands(Kernel& kernel, sdk::CommandRegistry& registry) {
    Kernel* k = &kernel;
    registry.add({"version", "print the version, SDK ABI and build key", "version", cmd_version}, "kernel");
    registry.add({"plugins", "list every plugin found: name, version, kind, description", "plugins [--keys]",
                  [k](sdk::CommandCall c) { cmd_plugins(*k, c); }},
                 "kernel");
    registry.add({"config", "validate a config file without running it", "config check FILE [--set T.K=V]...",
                  [k](sdk::CommandCall c) { cmd_config(*k, c); }},
                 "kernel");
    sdk::CommandRegistry* r = &registry;
    registry.add({"help", "list the commands", "help", [k, r](sdk::CommandCall c) { cmd_help(*k, *r, c); }}, "kernel");
}

}  // namespace veil::kernel
