#include "init_home.hpp"

#include <sys/stat.h>
#include <uv.h>

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "veil/sdk/files.hpp"

namespace veil::setup {
namespace {

namespace fs = std::filesystem;

// The plugins of a client, in the order HOME/veil.toml lists them (one place to add more).
// The frontends (web, rpc) serve only while `veil daemon` runs; on one-shot commands they idle.
constexpr const char* kClientPlugins[] = {"sqlcipher", "network",   "onion", "exif-strip", "attachments",
                                          "messenger", "web",       "rpc",   "cli"};

constexpr const char* kUsage =
    "usage: veil init [--home HOME] --network FILE [--restore] [--passphrase-file F]";

struct Child {
    uv_process_t process{};
    sdk::CommandCall call;
    fs::path config;
};

void on_exit(uv_process_t* p, int64_t status, int signal) {
    auto* child = static_cast<Child*>(p->data);
    // Exit 1 is a failure before anything was saved: without the config, init may simply be run
    // again. Anything else (a signal, the messenger's "HOME in use") may leave an identity
    // behind: keep it.
    if (!signal && status == sdk::exit_code::failure) {
        std::error_code ec;
        fs::remove(child->config, ec);
    }
    child->call.finish(signal || status != 0 ? sdk::exit_code::failure : sdk::exit_code::ok);
    uv_close(reinterpret_cast<uv_handle_t*>(p), [](uv_handle_t* h) { delete static_cast<Child*>(h->data); });
}

}  // namespace

std::string client_config(const fs::path& network_file, const fs::path& home) {
    if (!fs::exists(network_file)) {
        throw std::runtime_error("no network file at " + network_file.string() +
                                 " (a local network writes one: veil testnet up --dir DIR makes DIR/network.toml)");
    }
    toml::table doc;
    try {
        doc = toml::parse_file(network_file.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream o;
        o << network_file.string() << ":" << e.source().begin.line << ": not a valid network file: " << e.description();
        throw std::runtime_error(o.str());
    }
    const auto* network = doc["network"].as_table();
    if (!network) throw std::runtime_error(network_file.string() + " is not a network file: it has no [network] table");
    toml::table out;
    toml::array plugins;
    for (const char* p : kClientPlugins) plugins.push_back(p);
    out.insert("kernel", toml::table{{"plugins", std::move(plugins)}, {"home", home.string()}});
    out.insert("network", *network);
    std::ostringstream o;
    o << "# Veil client config, written by `veil init`.\n" << out << "\n";
    return o.str();
}

void init_home(sdk::Context& ctx, sdk::CommandCall call) {
    const auto& args = call.args();
    std::optional<fs::path> home, network, passphrase_file;
    bool restore = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        bool has_value = i + 1 < args.size();
        if (a == "--restore") restore = true;
        else if (a == "--home" && has_value) home = args[++i];
        else if (a == "--network" && has_value) network = args[++i];
        else if (a == "--passphrase-file" && has_value) passphrase_file = args[++i];
        else return call.fail("veil init: unexpected argument '" + a + "'\n" + kUsage);
    }
    if (!network) return call.fail(std::string("veil init needs --network FILE\n") + kUsage);
    fs::path h = fs::absolute(home.value_or(ctx.home_dir()));
    fs::path config = h / "veil.toml";
    if (fs::exists(config)) {
        return call.fail("veil init: " + h.string() + " already holds a Veil client (" + config.string() + ")",
                         sdk::exit_code::failure);
    }
    try {
        auto text = client_config(fs::absolute(*network), h);
        sdk::make_private_dirs(h);
        std::ofstream(config) << text;
        fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    } catch (const std::exception& e) {
        return call.fail(std::string("veil init: ") + e.what(), sdk::exit_code::failure);
    }

    char exe[4096];
    std::size_t exe_len = sizeof exe;
    if (uv_exepath(exe, &exe_len) != 0) return call.fail("veil init: cannot find the veil executable", sdk::exit_code::failure);
    std::vector<std::string> argv{exe, "--home", h.string(), "create-account"};
    if (restore) argv.push_back("--restore");
    if (passphrase_file) {
        argv.push_back("--passphrase-file");
        argv.push_back(fs::absolute(*passphrase_file).string());
    }
    std::vector<char*> cargv;
    for (auto& s : argv) cargv.push_back(s.data());
    cargv.push_back(nullptr);

    auto* child = new Child{{}, call, config};
    child->process.data = child;
    uv_stdio_container_t stdio[3];
    for (int fd = 0; fd < 3; ++fd) {
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
    }
    uv_process_options_t o{};
    o.exit_cb = on_exit;
    o.file = exe;
    o.args = cargv.data();
    o.stdio_count = 3;
    o.stdio = stdio;
    if (int rc = uv_spawn(ctx.loop(), &child->process, &o); rc != 0) {
        std::error_code ec;
        fs::remove(config, ec);
        uv_close(reinterpret_cast<uv_handle_t*>(&child->process), [](uv_handle_t* p) { delete static_cast<Child*>(p->data); });
        return call.fail(std::string("veil init: cannot start veil: ") + uv_strerror(rc), sdk::exit_code::failure);
    }
}

}  // namespace veil::setup
