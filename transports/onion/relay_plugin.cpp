// transports/onion: the `onion-relay` plugin that every service node runs: registration, config
// and bus wiring of the relay (relay.hpp). It meets the service node only on the bus: the node's
// onion key as a key-agreement capability (sdk::node::GetKeyAgreement) and the listed nodes
// from the manifests the node accepts (sdk::network::ManifestUpdated).
#include <filesystem>
#include <fstream>
#include <map>

#include "relay.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/metrics.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/node.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::onion {
namespace {

namespace tr = sdk::transport;

class RelayPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        if (sdk::node::runs_operator_command(ctx.commands())) return;  // the node runs elsewhere
        ctx_ = &ctx;
        trace_ = ctx.config().get_bool("trace");
        const auto& c = ctx.config();
        auto count = [&c](std::string_view key) {
            auto v = c.get_int(key);
            if (v <= 0) throw std::runtime_error("onion-relay." + std::string(key) + " must be positive");
            return static_cast<std::size_t>(v);
        };
        options_.max_in_flight = count("max_in_flight");
        options_.max_in_flight_per_link = count("max_in_flight_per_link");
        options_.max_long_polls = count("max_long_polls");
        options_.max_long_polls_per_link = count("max_long_polls_per_link");
        options_.max_in_flight_per_source = count("max_in_flight_per_source");
        options_.max_long_polls_per_source = count("max_long_polls_per_source");
        options_.max_replay_entries = count("max_replay_entries");
        ctx.on<sdk::network::ManifestUpdated>([this](const sdk::network::ManifestUpdated& m) { apply(*m.manifest); });
        (void)ctx.bus().request<sdk::network::GetManifest>(
            {}, 5000, [this, alive = alive_](sdk::Result<sdk::network::ManifestReply> r) {
                if (*alive && r) apply(*r.value().manifest);
            });
        // Asked once: opening a layer is the hot path, and the capability does X25519 in place.
        (void)ctx.bus().request<sdk::node::GetKeyAgreement>(
            {}, 5000, [this, alive = alive_](sdk::Result<sdk::node::KeyAgreementReply> r) {
                if (!*alive) return;
                if (!r) return ctx_->log().error("no onion key from the service node ({}): relaying nothing", r.error().describe());
                start_relay(std::move(r.value().agreement));
            });
        ctx.serve<tr::Inbound>(
            [this](const tr::Inbound& in, sdk::Responder<tr::Response> r) {
                if (!relay_) return r.fail(sdk::ErrorCode::unreachable, "onion: relay not ready");
                relay_->handle(in.body, in.link, in.source, [r](sdk::Result<wire::Bytes> out) {
                    if (out) {
                        r.reply({tr::Status::ok, std::move(out).value()});
                    } else {
                        r.fail(out.error());
                    }
                });
            },
            kOnionService);
        ctx.serve<sdk::metrics::Collect>(
            [this](const sdk::metrics::Collect&, sdk::Responder<sdk::metrics::Families> r) { r.reply({families()}); },
            "onion-relay");
    }

    void stop() override {
        *alive_ = false;
        relay_.reset();  // drops the key-agreement capability with it
    }

private:
    void start_relay(std::shared_ptr<const crypto::KeyAgreement> node_key) {
        // Forwards only to nodes of the manifest, at their listed address.
        relay_ = std::make_unique<Relay>(
            ctx_->loop(), ctx_->bus(), std::move(node_key),
            [this](const Key32& id, const std::string& address) {
                auto it = listed_.find(id);
                return it != listed_.end() && it->second == address;
            },
            options_);
        // Subscribes park at the node for up to a minute: counted apart from quick requests.
        relay_->set_long_poll_test([](std::string_view service, const wire::Bytes& body) {
            if (service != proto::node::kStorageService) return false;
            try {
                return proto::node::method_of(proto::node::decode_request(body).body) == proto::node::Method::subscribe;
            } catch (const wire::DecodeError&) {
                return false;
            }
        });
        if (!trace_) return;
        // What this hop learnt: the next hop's address or the local service. Never a client.
        relay_->set_observer([path = ctx_->data_dir() / "onion-trace.log"](const HopRecord& r) {
            std::ofstream out(path, std::ios::app);
            if (r.kind == LayerKind::forward) out << "forward " << r.next_address << "\n";
            else out << "deliver " << r.service << "\n";
        });
    }

    // What the node's metrics endpoint shows of this relay (docs/service-node.md §Metrics).
    std::vector<sdk::metrics::Family> families() const {
        using sdk::metrics::Kind;
        RelayStats s = relay_ ? relay_->stats() : RelayStats{};
        auto n = [](std::uint64_t v) { return static_cast<double>(v); };
        return {
            {"veil_onion_relayed_total", "onion layers opened and passed on, by what came next", Kind::counter,
             {{{{"kind", "forward"}}, n(s.forwarded)}, {{{"kind", "deliver"}}, n(s.delivered)}}},
            {"veil_onion_refused_total", "onion blobs refused, by reason", Kind::counter,
             {{{{"reason", "busy"}}, n(s.busy)}, {{{"reason", "bad"}}, n(s.refused - s.busy)}}},
            {"veil_onion_failed_total", "next hops or local services that failed", Kind::counter, {{{}, n(s.failed)}}},
            {"veil_onion_in_flight", "onion blobs waiting for an answer", Kind::gauge,
             {{{}, n(relay_ ? relay_->in_flight() : 0)}}},
        };
    }

    void apply(const proto::Manifest& m) {
        if (m.version <= version_) return;
        version_ = m.version;
        listed_.clear();
        for (const auto& n : m.nodes) listed_[n.ed25519] = proto::address_of(n);
    }

    sdk::Context* ctx_ = nullptr;
    bool trace_ = false;
    RelayOptions options_;
    std::unique_ptr<Relay> relay_;
    std::map<Key32, std::string> listed_;  // manifest nodes -> host:port
    std::uint64_t version_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

constexpr std::string_view kProvides[] = {"onion-relay"};
constexpr std::string_view kRequires[] = {"service-node"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"max_in_flight", sdk::ConfigType::integer, "4096", "blobs in flight, all inbound links"},
    {"max_in_flight_per_link", sdk::ConfigType::integer, "48", "blobs in flight per inbound connection"},
    {"max_long_polls", sdk::ConfigType::integer, "1024", "subscribes delivered here and waiting, all links"},
    {"max_long_polls_per_link", sdk::ConfigType::integer, "16", "subscribes delivered here and waiting, per link"},
    {"max_in_flight_per_source", sdk::ConfigType::integer, "512", "blobs in flight per source address (IPv4, IPv6 /64)"},
    {"max_long_polls_per_source", sdk::ConfigType::integer, "128", "subscribes waiting per source address (IPv4, IPv6 /64)"},
    {"max_replay_entries", sdk::ConfigType::integer, "1048576", "layers remembered against replays (oldest go first)"},
    {"trace", sdk::ConfigType::boolean, "false",
     "tests only: record what each onion layer revealed (next hop or service) in HOME/onion-relay/onion-trace.log"},
};
constexpr sdk::PluginInfo kInfo{
    .name = "onion-relay",
    .version = "0.1.0",
    .kind = sdk::PluginKind::transport,
    .description = "service node: the onion relay (opens its layer, forwards to listed nodes or delivers locally)",
    .provides = kProvides,
    .requires_ = kRequires,
    .config = kKeys,
    .commands = {},
};

}  // namespace
}  // namespace veil::onion

VEIL_PLUGIN(onion_relay, veil::onion::kInfo, veil::onion::RelayPlugin)
