// transports/onion: registration, config and bus wiring of the onion client (the default
// transport of every client). The relay side runs in the service-node plugin (relay.hpp).
#include <filesystem>
#include <fstream>

#include "onion_client.hpp"
#include "relay.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::onion {
namespace {

namespace fs = std::filesystem;
namespace tr = sdk::transport;

std::vector<NodeInfo> nodes_of(const proto::Manifest& m) {
    std::vector<NodeInfo> out;
    for (const auto& n : m.nodes) out.push_back({n.ed25519, n.x25519, proto::address_of(n), n.swarm});
    return out;
}

class OnionPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        OnionClientOptions o;
        o.hops = static_cast<std::size_t>(cfg.get_int("hops"));
        o.attempts = static_cast<std::size_t>(cfg.get_int("attempts"));
        o.strike_ms = static_cast<std::uint64_t>(cfg.get_int("strike_ms"));
        o.guard_lifetime_ms = static_cast<std::uint64_t>(cfg.get_int("guard_lifetime_ms"));
        if (o.hops < 1 || o.hops > kMaxPathNodes - 1) {
            throw std::invalid_argument("onion.hops must be between 1 and " + std::to_string(kMaxPathNodes - 1));
        }
        client_ = std::make_unique<OnionClient>(ctx.loop(), o);
        guard_file_ = ctx.data_dir() / "guard";
        load_guard();

        ctx.on<sdk::network::ManifestUpdated>([this](const sdk::network::ManifestUpdated& m) { apply(*m.manifest); });
        // One accepted before this plugin subscribed (the bus delivers the answer before any
        // request made after the kernel started). Callers that need a manifest wait for it at
        // the network plugin (GetManifest, swarm calls), so a request never waits here.
        (void)ctx.bus().request<sdk::network::GetManifest>({}, 5000, [this](sdk::Result<sdk::network::ManifestReply> r) {
            if (r) apply(*r.value().manifest);
        });
        ctx.serve<tr::Request>([this](const tr::Request& req, sdk::Responder<tr::Response> r) {
            if (!client_->ready()) return r.fail(sdk::ErrorCode::unreachable, "onion: no network manifest yet");
            send(req, r);
        });
    }

    void stop() override {
        save_guard();
        client_.reset();
    }

private:
    void send(const tr::Request& req, sdk::Responder<tr::Response> r) {
        client_->send(req, [this, r](sdk::Result<tr::Response> res) {
            if (res) {
                r.reply(std::move(res).value());
            } else {
                r.fail(res.error());
            }
            save_guard();
        });
    }

    void apply(const proto::Manifest& m) {
        if (m.version <= version_) return;
        version_ = m.version;
        client_->set_nodes(nodes_of(m));
    }

    // The guard file holds "<node id hex> <chosen at ms>"; a missing or bad file means a new guard.
    void load_guard() {
        std::ifstream in(guard_file_);
        std::string hex;
        std::uint64_t chosen = 0;
        if (!(in >> hex >> chosen)) return;
        try {
            auto id = wire::from_hex(hex);
            if (id.size() != 32) return;
            PathBuilder::GuardState g;
            std::copy(id.begin(), id.end(), g.node_id.begin());
            g.chosen_ms = chosen;
            client_->restore_guard(g);
            saved_ = g.node_id;
        } catch (const wire::DecodeError&) {
        }
    }

    void save_guard() {
        if (!client_) return;
        auto g = client_->guard();
        if (!g || (saved_ && *saved_ == g->node_id)) return;
        std::ofstream(guard_file_, std::ios::trunc) << wire::to_hex(g->node_id) << " " << g->chosen_ms << "\n";
        saved_ = g->node_id;
    }

    std::unique_ptr<OnionClient> client_;
    std::uint64_t version_ = 0;
    fs::path guard_file_;
    std::optional<Key32> saved_;
};

constexpr std::string_view kProvides[] = {"transport"};
constexpr std::string_view kRequires[] = {"network"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"hops", sdk::ConfigType::integer, "3", "relays per path (guard, middle, exit)"},
    {"attempts", sdk::ConfigType::integer, "3", "paths tried per request before it fails"},
    {"strike_ms", sdk::ConfigType::integer, "600000", "how long a failed node is avoided"},
    {"guard_lifetime_ms", sdk::ConfigType::integer, "604800000", "how long the sticky guard is kept"},
};
constexpr sdk::PluginInfo kInfo{
    "onion", "0.1.0", sdk::PluginKind::transport,
    "onion-routed transport: every request through three service nodes (the default)",
    kProvides, kRequires, kKeys, {}};

}  // namespace
}  // namespace veil::onion

VEIL_PLUGIN(onion, veil::onion::kInfo, veil::onion::OnionPlugin)
