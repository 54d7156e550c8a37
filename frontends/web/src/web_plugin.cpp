// frontends/web: the plugin seam only (descriptor, config, when to serve). The server is in
// server.cpp, its checks in gate.cpp, the page protocol in api.cpp.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "server.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::web {

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kStaleUploadAgeHours = 7 * 24;

// Replaces `path` with `text` (0600, written whole then renamed).
void write_private_file(const fs::path& path, const std::string& text) {
    auto tmp = path;
    tmp += ".tmp";
    fs::remove(tmp);
    {
        std::ofstream out(tmp, std::ios::trunc);
        fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
        out << text;
        if (!out) throw std::runtime_error("web: cannot write " + path.string());
    }
    fs::rename(tmp, path);
}

// The port of the last run (HOME/web/port), if it holds one.
std::optional<std::uint16_t> read_port(const fs::path& path) {
    std::ifstream in(path);
    unsigned port = 0;
    if (!(in >> port) || port == 0 || port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

// Uploads whose message never finished sending are removed after a week.
void remove_stale_uploads(const fs::path& uploads) {
    std::error_code ec;
    auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(kStaleUploadAgeHours);
    for (const auto& e : fs::directory_iterator(uploads, ec)) {
        if (e.last_write_time(ec) < cutoff) fs::remove_all(e.path(), ec);
    }
}

class WebPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        // Serve only for a resident client: `veil daemon`, or a foreground run with no command.
        const auto& argv = ctx.commands().invocation();
        bool resident = !argv || argv->empty() || argv->front() == "daemon";
        if (!resident) return;

        ServerOptions options;
        options.listen = parse_listen(ctx.config().get_string("listen"));
        auto max_upload = ctx.config().get_int("max_upload_bytes");
        if (max_upload <= 0) throw std::invalid_argument("web.max_upload_bytes must be positive");
        options.max_upload_bytes = static_cast<std::uint64_t>(max_upload);
        options.data_dir = ctx.data_dir();
        // With a free port asked for, the last one is tried first: an open tab keeps its
        // address across restarts (and learns that its session ended).
        auto port_file = options.data_dir / "port";
        if (options.listen.port == 0) {
            if (auto last = read_port(port_file)) {
                auto again = options;
                again.listen.port = *last;
                try {
                    server_ = std::make_unique<WebServer>(ctx, again);
                } catch (const std::exception&) {
                    ctx.log().debug("port {} is taken; using a new one", *last);
                }
            }
        }
        if (!server_) server_ = std::make_unique<WebServer>(ctx, options);
        write_private_file(port_file, std::to_string(server_->port()) + "\n");

        auto url = server_->login_url();
        // The login URL for scripts and tests (HOME/web/url, 0600).
        write_private_file(options.data_dir / "url", url + "\n");
        std::string line = "veil web: open " + url + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
        ctx.log().info("serving the chat page on 127.0.0.1 port {}", server_->port());
        ctx.run_blocking([uploads = options.data_dir / "uploads"] { remove_stale_uploads(uploads); },
                         [](std::exception_ptr) {});
    }

    void stop() override {
        if (server_) server_->stop();
        server_.reset();
    }

private:
    std::unique_ptr<WebServer> server_;
};

constexpr sdk::ConfigKeySpec kConfig[] = {
    {"listen", sdk::ConfigType::string, "127.0.0.1:0",
     "loopback IP:PORT of the chat page (port 0 = a free port); other addresses are refused"},
    {"max_upload_bytes", sdk::ConfigType::integer, "10485760", "largest file the page may upload"},
};

// The page drives the messenger contract; attachments (uploads, progress) are optional.
constexpr std::string_view kRequires[] = {"messenger"};

constexpr sdk::PluginInfo kInfo{
    .name = "web",
    .version = "0.1.0",
    .kind = sdk::PluginKind::frontend,
    .description = "local chat page on 127.0.0.1 (token login, WebSocket live updates) for 'veil daemon'",
    .provides = {},
    .requires_ = kRequires,
    .config = kConfig,
    .commands = {},
};

}  // namespace
}  // namespace veil::web

VEIL_PLUGIN(web, veil::web::kInfo, veil::web::WebPlugin)
