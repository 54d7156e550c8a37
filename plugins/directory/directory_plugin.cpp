// plugins/directory: the directory authority. Descriptor, config table and wiring only; the
// rules live in registry.cpp, assignment.cpp and manifest.cpp.
#include <chrono>
#include <fstream>

#include "veil/proto/directory_rpc.hpp"
#include "veil/crypto/key_file.hpp"
#include "admission.hpp"
#include "registry.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::directory {

namespace {

using sdk::now_ms;

class DirectoryPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        auto key_path = cfg.get_string("key_file").empty() ? ctx.data_dir() / "authority.key"
                                                            : std::filesystem::path(cfg.get_string("key_file"));
        key_ = std::make_unique<crypto::SigningKeyPair>(crypto::load_or_create_signing_key(key_path));
        // The public key, for operators and `veil testnet` (it is public: clients configure it).
        std::ofstream(ctx.data_dir() / "authority.pub") << wire::to_hex(key_->pub) << "\n";

        RegistryConfig rc;
        rc.assignment.target_swarm_size = static_cast<std::size_t>(std::max<std::int64_t>(1, cfg.get_int("target_swarm_size")));
        rc.assignment.min_swarm_size = static_cast<std::size_t>(std::max<std::int64_t>(1, cfg.get_int("min_swarm_size")));
        rc.heartbeat_timeout_ms = static_cast<std::uint64_t>(cfg.get_int("heartbeat_timeout_ms"));
        registry_ = std::make_unique<Registry>(rc);
        start_admission(ctx, rc.heartbeat_timeout_ms);

        auto at = sdk::net::parse_endpoint(cfg.get_string("listen"));
        if (!at) throw std::runtime_error("directory.listen: " + at.error().message);
        server_ = std::make_unique<sdk::net::Server>(ctx.loop(), sdk::net::ServerOptions{},
                                                     [this](wire::Bytes body, sdk::net::Reply reply) {
                                                         reply.reply(handle(body));
                                                     });
        auto bound = server_->listen(at.value());
        if (!bound) throw std::runtime_error("directory: cannot listen: " + bound.error().message);
        ctx.log().info("directory authority listening on {}", bound.value().to_string());
        log_ = ctx.logger();
        ctx.set_interval(static_cast<std::uint64_t>(std::max<std::int64_t>(50, cfg.get_int("tick_ms"))),
                         [this] { tick(); });
    }

    void stop() override {
        if (server_) server_->close();
        server_.reset();
        admission_.reset();
        prober_.reset();
    }

private:
    // Registrations reach the registry only once the node proved its key at its address.
    void start_admission(sdk::Context& ctx, std::uint64_t heartbeat_timeout_ms) {
        const auto& cfg = ctx.config();
        AdmissionConfig ac;
        ac.test_network = cfg.get_bool("test_network");
        ac.max_nodes_per_block = static_cast<std::uint16_t>(std::clamp<std::int64_t>(cfg.get_int("max_nodes_per_block"), 0, 65535));
        ac.recheck_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(1000, cfg.get_int("recheck_ms")));
        ac.retry_after_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg.get_int("retry_after_ms")));
        ac.forget_after_ms = heartbeat_timeout_ms;
        prober_ = std::make_unique<ChallengeProber>(ctx.loop(), key_->pub,
                                                    static_cast<std::uint32_t>(std::max<std::int64_t>(100, cfg.get_int("challenge_timeout_ms"))));
        admission_ = std::make_unique<Admission>(
            ac, [this](const NodeDescriptor& d, std::function<void(bool)> done) { prober_->probe(d, std::move(done)); },
            [this](const NodeDescriptor& d) {
                auto r = registry_->heartbeat(d, now_ms());
                if (r != RegisterResult::ok) log_->info("a node proved its key but the registry refused it: {}", to_string(r));
            },
            [this](const PublicKey& key) { registry_->remove(key); }, [] { return now_ms(); });
    }

    void tick() {
        prober_->collect();
        admission_->tick();
        auto now = now_ms();
        if (registry_->tick(now) || envelope_.empty()) {
            auto m = registry_->manifest(now);
            if (m.nodes.empty()) return;
            std::vector<const crypto::SigningKeyPair*> signers{key_.get()};
            envelope_ = sign_manifest(m, signers).encode();
            log_->info("manifest version {}: {} nodes in {} swarms", m.version, m.nodes.size(), m.swarm_ids().size());
        }
    }

    wire::Bytes handle(const wire::Bytes& body) {
        DirectoryKind kind = DirectoryKind::get_manifest;
        try {
            auto q = decode_directory_request(body);
            kind = q.kind;
            if (q.kind == DirectoryKind::get_manifest) {
                if (envelope_.empty())
                    return encode_directory_response(kind, {DirectoryStatus::not_ready, {}, "no manifest yet"});
                return encode_directory_response(kind, {DirectoryStatus::ok, envelope_, {}});
            }
            auto d = decode_verified_descriptor(q.descriptor);
            auto admit = admission_->offer(d);
            if (admit.step == AdmitStep::refused) {
                log_->info("registration refused: {}", admit.reason);
                return encode_directory_response(kind, {DirectoryStatus::refused, {}, admit.reason});
            }
            if (admit.step == AdmitStep::checking)
                return encode_directory_response(kind, {DirectoryStatus::checking, {}, "admission challenge under way"});
            auto result = registry_->heartbeat(d, now_ms());
            if (result != RegisterResult::ok)
                return encode_directory_response(kind, {DirectoryStatus::refused, {}, to_string(result)});
            return encode_directory_response(kind, {DirectoryStatus::ok, {}, {}});
        } catch (const wire::DecodeError& e) {
            return encode_directory_response(kind, {DirectoryStatus::bad_request, {}, e.what()});
        }
    }

    std::unique_ptr<crypto::SigningKeyPair> key_;
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<ChallengeProber> prober_;
    std::unique_ptr<Admission> admission_;
    std::unique_ptr<sdk::net::Server> server_;
    std::shared_ptr<spdlog::logger> log_;
    wire::Bytes envelope_;
};

constexpr sdk::ConfigKeySpec kKeys[] = {
    {"listen", sdk::ConfigType::string, "127.0.0.1:7700", "address the authority listens on"},
    {"key_file", sdk::ConfigType::string, "", "Ed25519 seed file (default HOME/directory/authority.key)"},
    {"target_swarm_size", sdk::ConfigType::integer, "3", "nodes per new swarm"},
    {"min_swarm_size", sdk::ConfigType::integer, "2", "below this a swarm takes nodes from the largest"},
    {"heartbeat_timeout_ms", sdk::ConfigType::integer, "15000", "a node silent this long leaves the manifest"},
    {"tick_ms", sdk::ConfigType::integer, "500", "how often assignment runs and the manifest is re-signed"},
    {"test_network", sdk::ConfigType::boolean, "false", "admit loopback and private addresses (test networks only)"},
    {"max_nodes_per_block", sdk::ConfigType::integer, "4", "nodes admitted per /24 (IPv4) or /48 (IPv6); 0: no limit"},
    {"recheck_ms", sdk::ConfigType::integer, "600000", "how often a listed node proves its key at its address again"},
    {"retry_after_ms", sdk::ConfigType::integer, "60000", "an address that failed the challenge is not probed again before this"},
    {"challenge_timeout_ms", sdk::ConfigType::integer, "5000", "how long a node has to answer the admission challenge"},
};
constexpr std::string_view kProvides[] = {"directory"};

constexpr sdk::PluginInfo kInfo{
    .name = "directory",
    .version = "0.1.0",
    .kind = sdk::PluginKind::role,
    .description = "directory authority: node registrations, swarm assignment, signed manifest",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = {},
};

}  // namespace
}  // namespace veil::directory

VEIL_PLUGIN(directory, veil::directory::kInfo, veil::directory::DirectoryPlugin)
