#include "network_commands.hpp"

#include "veil/crypto/random.hpp"


#include <memory>
#include <sstream>

#include "veil/sdk/clock.hpp"
#include "veil/sdk/swarm.hpp"

namespace veil::network {
namespace {

constexpr const char* kUsage =
    "network status | network info [NODE_KEY] | network store MAILBOX TEXT [--ns N] [--ttl-s S]";
constexpr std::uint64_t kManifestWaitMs = 15'000;
constexpr std::uint32_t kNodeTimeoutMs = sdk::swarm::kDefaultTimeoutMs;

std::string describe(const sdk::Error& e) { return e.describe(); }

void status(const proto::Manifest& m, const ManifestSource& source, const sdk::CommandCall& call) {
    std::ostringstream o;
    auto now = sdk::now_ms();
    auto seconds = [](std::uint64_t ms) { return std::to_string(ms / 1000) + " s"; };
    o << "manifest version " << m.version << ": " << m.nodes.size() << " nodes in " << m.swarm_ids().size()
      << " swarms\n"
      << "age " << (now > m.issued_ms ? seconds(now - m.issued_ms) : "0 s") << ", "
      << (now > m.valid_until_ms ? "expired " + seconds(now - m.valid_until_ms) + " ago"
                                 : "valid for " + seconds(m.valid_until_ms - now))
      << "\nsigned by " << source.signatures() << " of " << source.verifier().authority_count()
      << " authorities (" << source.verifier().threshold() << " needed)\n";
    if (now <= m.valid_until_ms && proto::manifest_getting_old(m, now))
        o << "warning: the manifest is getting old (the authorities have not issued a newer one)\n";
    call.out(o.str());
    call.finish(sdk::exit_code::ok);
}

void info(const proto::Manifest& m, SwarmClient& swarms, const sdk::CommandCall& call) {
    const auto& args = call.args();
    const proto::NodeEntry* target = nullptr;
    if (args.size() >= 2) {
        try {
            auto key = wire::from_hex(args[1]);
            if (key.size() == 32) target = m.find(wire::to_array<32>(key));
        } catch (const wire::DecodeError&) {
        }
        if (!target) return call.fail("veil network info: no node with that key in the manifest");
    } else {
        if (m.nodes.empty()) return call.fail("veil network info: the manifest lists no node", sdk::exit_code::failure);
        target = &m.nodes[crypto::random_index(m.nodes.size())];
    }
    swarms.to_node(*target, proto::node::InfoRequest{}, kNodeTimeoutMs, [call](sdk::Result<proto::node::Response> r) {
        if (!r) return call.fail("veil network info: " + describe(r.error()), sdk::exit_code::failure);
        if (r.value().status != proto::node::Status::ok) {
            return call.fail(std::string("veil network info: node answered ") + proto::node::to_string(r.value().status),
                             sdk::exit_code::failure);
        }
        const auto& i = std::get<proto::node::InfoResponse>(r.value().body);
        std::ostringstream o;
        o << "node " << wire::to_hex(i.node_key) << " version " << i.version << " swarm " << i.swarm
          << " manifest " << i.manifest_version << "\n";
        call.out(o.str());
        call.finish(sdk::exit_code::ok);
    });
}

void store(SwarmClient& swarms, const sdk::CommandCall& call) {
    const auto& args = call.args();
    if (args.size() < 3) return call.fail(std::string("usage: veil ") + kUsage);
    proto::node::StoreRequest q;
    try {
        auto key = wire::from_hex(args[1]);
        if (key.size() != 32) throw wire::DecodeError("length");
        q.mailbox = wire::to_array<32>(key);
    } catch (const wire::DecodeError&) {
        return call.fail("veil network store: MAILBOX must be 64 hex characters");
    }
    q.data.assign(args[2].begin(), args[2].end());
    q.ttl_ms = 3600 * 1000;
    for (std::size_t i = 3; i + 1 < args.size(); i += 2) {
        try {
            if (args[i] == "--ns") q.ns = static_cast<std::uint16_t>(std::stoul(args[i + 1]));
            else if (args[i] == "--ttl-s") q.ttl_ms = std::stoull(args[i + 1]) * 1000;
            else return call.fail("veil network store: unknown option " + args[i]);
        } catch (const std::exception&) {
            return call.fail("veil network store: " + args[i] + " needs a number");
        }
    }
    auto mailbox = q.mailbox;
    swarms.to_swarm(mailbox, std::move(q), kNodeTimeoutMs, [call](sdk::Result<proto::node::Response> r) {
        if (!r) return call.fail("veil network store: " + describe(r.error()), sdk::exit_code::failure);
        if (r.value().status != proto::node::Status::ok) {
            // This debugging tool pays no proof of work: it reports the price asked.
            const auto* e = std::get_if<proto::node::ErrorResponse>(&r.value().body);
            const auto* w = std::get_if<proto::node::WorkRequiredResponse>(&r.value().body);
            return call.fail(std::string("veil network store: ") + proto::node::to_string(r.value().status) +
                                 (e ? ": " + e->message : "") + (w ? ": " + w->message : ""),
                             sdk::exit_code::failure);
        }
        const auto& s = std::get<proto::node::StoreResponse>(r.value().body);
        call.out(wire::to_hex(s.hash) + (s.newly_stored ? " stored\n" : " already stored\n"));
        call.finish(sdk::exit_code::ok);
    });
}

}  // namespace

void add_network_command(sdk::Context& ctx, NetworkServer& server) {
    ctx.add_command({"network", "look at the network and talk to service nodes (through the enabled transport)",
                     kUsage, [&server](sdk::CommandCall call) {
                         const auto& args = call.args();
                         if (args.empty()) return call.fail(std::string("usage: veil ") + kUsage);
                         std::string sub = args[0];
                         if (sub != "status" && sub != "info" && sub != "store") {
                             return call.fail("veil network: unknown subcommand '" + sub + "'\nusage: veil " + kUsage);
                         }
                         server.when_manifest(kManifestWaitMs, [&server, call, sub](bool held) {
                             if (!held) {
                                 return call.fail("veil network: no service node answered with a valid manifest (is "
                                                  "the network up? check seed_nodes)",
                                                  sdk::exit_code::failure);
                             }
                             auto manifest = server.manifest();  // kept alive while the command runs
                             if (sub == "status") status(*manifest, server.source(), call);
                             else if (sub == "info") info(*manifest, server.swarms(), call);
                             else store(server.swarms(), call);
                         });
                     }});
}

}  // namespace veil::network
