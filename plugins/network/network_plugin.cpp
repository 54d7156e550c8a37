// plugins/network: registration, config and bus wiring of the client's manifest source and of
// the swarm calls it serves (network_server.hpp).
#include <filesystem>
#include <fstream>

#include "manifest_source.hpp"
#include "network_commands.hpp"
#include "network_server.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::network {
namespace {

namespace fs = std::filesystem;

// Writes atomically: a crash leaves the old cache or the new one, never half of one.
void write_file(const fs::path& path, const wire::Bytes& bytes) {
    fs::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, path);
}

wire::Bytes read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class NetworkPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        ManifestSourceOptions o;
        o.seeds = cfg.get_strings("seed_nodes");
        auto authorities = proto::read_authority_set("network", cfg.get_strings("authority_keys"), cfg.get_int("authority_threshold"));
        o.authorities = std::move(authorities.keys);
        o.threshold = authorities.threshold;
        o.request_timeout_ms = static_cast<std::uint32_t>(cfg.get_int("request_timeout_ms"));
        cache_ = ctx.data_dir() / "manifest.bin";

        source_ = std::make_unique<ManifestSource>(
            ctx.loop(), o, [this, &ctx](const proto::SignedManifest& m, const wire::Bytes& envelope) {
                ctx.log().debug("manifest version {} accepted ({} nodes)", m.manifest.version, m.manifest.nodes.size());
                try {
                    write_file(cache_, envelope);
                } catch (const std::exception& e) {
                    ctx.log().warn("manifest cache not written: {}", e.what());
                }
                // Published first: the transport sees the manifest before the requests of the
                // calls that waited for it (the bus keeps publish order).
                auto manifest = std::make_shared<const proto::Manifest>(m.manifest);
                ctx.bus().publish(sdk::network::ManifestUpdated{m.manifest.version, manifest, envelope});
                if (server_) server_->manifest_accepted(std::move(manifest));
            });
        // Refreshes after the first bootstrap travel through the enabled transport (the onion).
        source_->set_transport([&ctx](sdk::transport::Request request, auto done) {
            if (!ctx.bus().request<sdk::transport::Request>(std::move(request), 0, done)) {
                done(sdk::Error{sdk::ErrorCode::queue_full, "bus queue full"});
            }
        });
        server_ = std::make_unique<NetworkServer>(ctx, *source_);
        if (fs::exists(cache_)) {
            if (auto refused = source_->offer(read_file(cache_))) {
                ctx.log().warn("cached manifest ignored: {}", *refused);
            }
        }
        auto refresh = [this, &ctx] {
            source_->refresh([&ctx](bool ok) {
                if (!ok) ctx.log().warn("no node answered with a valid manifest");
            });
        };
        refresh();
        ctx.set_interval(static_cast<std::uint64_t>(cfg.get_int("refresh_ms")), refresh);
        add_network_command(ctx, *server_);
    }

    void stop() override {
        server_.reset();
        source_.reset();
    }

private:
    std::unique_ptr<ManifestSource> source_;
    std::unique_ptr<NetworkServer> server_;
    fs::path cache_;
};

constexpr std::string_view kProvides[] = {"network"};
constexpr std::string_view kCommands[] = {"network"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"authority_keys", sdk::ConfigType::string_list, "[]", "Ed25519 keys (hex) of the directory authorities"},
    {"authority_threshold", sdk::ConfigType::integer, "0", "how many authorities must sign a manifest; 0: more than half of authority_keys; less than that is refused"},
    {"seed_nodes", sdk::ConfigType::string_list, "[]", "host:port of service nodes to ask for the manifest"},
    {"directory", sdk::ConfigType::string, "", "host:port of the directory (informational; clients ask nodes)"},
    {"authorities", sdk::ConfigType::string_list, "[]", "host:port of each authority (informational: authorities and nodes use it; clients ask nodes)"},
    {"test_network", sdk::ConfigType::boolean, "false", "network parameter the authorities record in the manifest (informational here)"},
    {"max_nodes_per_block", sdk::ConfigType::integer, "0", "network parameter the authorities record in the manifest (informational here)"},
    {"refresh_ms", sdk::ConfigType::integer, "60000", "how often the manifest is refreshed"},
    {"request_timeout_ms", sdk::ConfigType::integer, "5000", "deadline of one manifest request"},
};
constexpr sdk::PluginInfo kInfo{
    "network", "0.1.0", sdk::PluginKind::role,
    "the client's verified view of the network (the authority-signed manifest of service nodes) and its calls to swarms",
    kProvides, {}, kKeys, kCommands};

}  // namespace
}  // namespace veil::network

VEIL_PLUGIN(network, veil::network::kInfo, veil::network::NetworkPlugin)
