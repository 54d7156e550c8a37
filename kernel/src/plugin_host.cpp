#include "plugin_host.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>

namespace veil::kernel {

namespace fs = std::filesystem;
using sdk::Error;
using sdk::ErrorCode;

namespace {
constexpr std::string_view kPrefix = "veil-plugin-";
constexpr std::string_view kSuffix = ".so";

bool valid_name(std::string_view n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    });
}
}  // namespace

std::string plugin_file_name(const std::string& name) { return std::string(kPrefix) + name + std::string(kSuffix); }

PluginHost::PluginHost(std::vector<fs::path> search_dirs) : dirs_(std::move(search_dirs)) {
    for (auto* entry : static_plugins()) {
        const auto* d = entry();
        // A static plugin was compiled with this very SDK; its info is safe to read.
        std::string name(d->info->name);
        candidates_.emplace(name, Candidate{name, {}, entry});
    }
    for (const auto& dir : dirs_) {
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            auto fname = e.path().filename().string();
            if (fname.size() > kPrefix.size() + kSuffix.size() && fname.starts_with(kPrefix) && fname.ends_with(kSuffix)) {
                files.push_back(e.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            auto fname = f.filename().string();
            std::string name = fname.substr(kPrefix.size(), fname.size() - kPrefix.size() - kSuffix.size());
            candidates_.emplace(name, Candidate{name, f, nullptr});  // first one wins
        }
    }
}

PluginHost::~PluginHost() {
    loaded_.clear();
    libraries_.clear();  // last: nothing made by a plugin is alive any more
}

sdk::Result<const sdk::PluginDescriptor*> PluginHost::check(const Candidate& c, const sdk::PluginDescriptor* d) const {
    std::string who = "plugin '" + c.name + "'" + (c.file.empty() ? "" : " (" + c.file.string() + ")");
    if (auto status = sdk::check_descriptor(d, who); !status) return status.error();
    const auto& info = *d->info;
    if (info.name != c.name) {
        return Error{ErrorCode::bad_input, who + ": descriptor names itself '" + std::string(info.name) +
                                               "', expected '" + c.name + "'"};
    }
    if (!valid_name(info.name)) return Error{ErrorCode::bad_input, who + ": invalid name (use a-z, 0-9, -)"};
    if (info.version.empty()) return Error{ErrorCode::bad_input, who + ": empty version"};
    auto kind = static_cast<int>(info.kind);
    if (kind < static_cast<int>(sdk::PluginKind::frontend) || kind > static_cast<int>(sdk::PluginKind::other)) {
        return Error{ErrorCode::bad_input, who + ": invalid kind " + std::to_string(kind)};
    }
    return d;
}

sdk::Result<const LoadedPlugin*> PluginHost::load(const std::string& name) {
    if (auto it = loaded_.find(name); it != loaded_.end()) return static_cast<const LoadedPlugin*>(it->second.get());
    auto cit = candidates_.find(name);
    if (cit == candidates_.end()) {
        std::string where;
        for (const auto& d : dirs_) where += (where.empty() ? "" : ", ") + d.string();
        return Error{ErrorCode::not_found, "plugin '" + name + "' not found (looked for " + plugin_file_name(name) +
                                               " in: " + (where.empty() ? "no directories" : where) + ")"};
    }
    const Candidate& c = cit->second;
    const sdk::PluginDescriptor* d = nullptr;
    if (c.static_entry) {
        d = c.static_entry();
    } else {
        auto lib = std::make_unique<boost::dll::shared_library>();
        boost::dll::fs::error_code ec;
        lib->load(c.file, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
        if (ec) {
            // dlerror() carries the useful part (e.g. an undefined symbol); Boost's code does not.
            const char* why = ::dlerror();
            return Error{ErrorCode::io, "plugin '" + name + "' (" + c.file.string() +
                                            "): cannot load: " + (why ? why : ec.message())};
        }
        if (!lib->has("veil_plugin_descriptor")) {
            return Error{ErrorCode::bad_input, "plugin '" + name + "' (" + c.file.string() +
                                                   "): missing entry symbol 'veil_plugin_descriptor' "
                                                   "(not built with VEIL_PLUGIN)"};
        }
        auto& entry = lib->get_alias<sdk::DescriptorFn>("veil_plugin_descriptor");
        d = entry();
        libraries_.push_back(std::move(lib));  // kept until the host dies, even if refused below
    }
    auto checked = check(c, d);
    if (!checked) return checked.error();
    auto lp = std::make_unique<LoadedPlugin>();
    lp->source = c;
    lp->descriptor = d;
    const LoadedPlugin* out = lp.get();
    loaded_.emplace(name, std::move(lp));
    return out;
}

sdk::Result<std::vector<const LoadedPlugin*>> PluginHost::order(const std::vector<const LoadedPlugin*>& enabled) const {
    auto provides = [](const LoadedPlugin* p, std::string_view cap) {
        if (p->info().name == cap) return true;
        return std::find(p->info().provides.begin(), p->info().provides.end(), cap) != p->info().provides.end();
    };
    // deps[i] = indices of plugins that plugin i needs started first.
    std::vector<std::vector<std::size_t>> deps(enabled.size());
    for (std::size_t i = 0; i < enabled.size(); ++i) {
        for (auto req : enabled[i]->info().requires_) {
            bool found = false;
            for (std::size_t j = 0; j < enabled.size(); ++j) {
                if (j != i && provides(enabled[j], req)) {
                    deps[i].push_back(j);
                    found = true;
                }
            }
            if (!found) {
                return Error{ErrorCode::not_found, "plugin '" + std::string(enabled[i]->info().name) + "' requires '" +
                                                       std::string(req) + "', which no enabled plugin provides"};
            }
        }
    }
    // Depth-first topological sort in enabled order; a grey node seen again is a cycle.
    std::vector<int> mark(enabled.size(), 0);  // 0 white, 1 grey, 2 black
    std::vector<std::size_t> stack;
    std::vector<const LoadedPlugin*> out;
    std::string cycle;
    std::function<bool(std::size_t)> visit = [&](std::size_t i) {
        if (mark[i] == 2) return true;
        if (mark[i] == 1) {
            auto from = std::find(stack.begin(), stack.end(), i);
            for (auto it = from; it != stack.end(); ++it) cycle += std::string(enabled[*it]->info().name) + " -> ";
            cycle += std::string(enabled[i]->info().name);
            return false;
        }
        mark[i] = 1;
        stack.push_back(i);
        for (auto j : deps[i]) {
            if (!visit(j)) return false;
        }
        stack.pop_back();
        mark[i] = 2;
        out.push_back(enabled[i]);
        return true;
    };
    for (std::size_t i = 0; i < enabled.size(); ++i) {
        if (!visit(i)) return Error{ErrorCode::bad_input, "dependency cycle: " + cycle};
    }
    return out;
}

}  // namespace veil::kernel
