// transports/direct: registration, config, bus wiring and the `veil direct call` command.
#include <fstream>

#include "direct_transport.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::direct {

namespace {

namespace tr = sdk::transport;

// `veil direct call ADDRESS SERVICE TEXT [--timeout-ms N]`: one request through the bus.
void call_command(sdk::Context& ctx, const sdk::CommandCall& call) {
    const auto& a = call.args();
    if (a.size() < 4 || a[0] != "call" || (a.size() != 4 && !(a.size() == 6 && a[4] == "--timeout-ms"))) {
        call.fail("usage: veil direct call ADDRESS SERVICE TEXT [--timeout-ms N]");
        return;
    }
    tr::Request req;
    req.to.address = a[1];
    req.service = a[2];
    req.body.assign(a[3].begin(), a[3].end());
    if (a.size() == 6) req.timeout_ms = static_cast<std::uint32_t>(std::stoul(a[5]));
    bool queued = ctx.bus().request<tr::Request>(std::move(req), 0, [call](sdk::Result<tr::Response> r) {
        if (!r) {
            call.fail("veil direct call: " + r.error().describe(), sdk::exit_code::failure);
            return;
        }
        const auto& resp = r.value();
        std::string body(resp.body.begin(), resp.body.end());
        switch (resp.status) {
            case tr::Status::ok: call.out(body + "\n"); call.finish(sdk::exit_code::ok); return;
            case tr::Status::unknown_service: call.fail("veil direct call: unknown service", sdk::exit_code::failure); return;
            case tr::Status::error: call.fail("veil direct call: service error: " + body, sdk::exit_code::failure); return;
        }
        call.fail("veil direct call: invalid status", sdk::exit_code::failure);
    });
    if (!queued) call.fail("veil direct call: bus queue full", sdk::exit_code::failure);
}

class DirectPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        Options o;
        o.max_frame_bytes = static_cast<std::size_t>(cfg.get_int("max_frame_bytes"));
        o.idle_timeout_ms = static_cast<std::uint64_t>(cfg.get_int("idle_timeout_ms"));
        o.connect_timeout_ms = static_cast<std::uint64_t>(cfg.get_int("connect_timeout_ms"));
        o.inbound_timeout_ms = static_cast<std::uint32_t>(cfg.get_int("inbound_timeout_ms"));
        ctx.log().warn("the direct transport is NOT anonymous: peers see this host's address; "
                       "use it for tests and debugging only");
        transport_ = std::make_unique<DirectTransport>(ctx.loop(), ctx.bus(), o, ctx.logger());
        ctx.serve<tr::Request>([this](const tr::Request& req, sdk::Responder<tr::Response> r) {
            transport_->send(req, [r](sdk::Result<tr::Response> res) {
                if (res) {
                    r.reply(std::move(res).value());
                } else {
                    r.fail(res.error());
                }
            });
        });
        if (cfg.get_bool("echo")) {
            ctx.serve<tr::Inbound>([](const tr::Inbound& in, sdk::Responder<tr::Response> r) {
                r.reply({tr::Status::ok, in.body});
            }, "echo");
        }
        if (const auto& listen = cfg.get_string("listen"); !listen.empty()) {
            auto ep = sdk::net::parse_endpoint(listen);
            if (!ep) throw std::invalid_argument("direct.listen: " + ep.error().message);
            auto bound = transport_->listen(ep.value());
            if (!bound) throw std::runtime_error(bound.error().message);
            // Tests and `veil testnet` read the real port from here when 0 was asked.
            std::ofstream(ctx.data_dir() / "listen.addr") << bound.value().to_string() << "\n";
            ctx.log().info("listening on {}", bound.value().to_string());
        }
        ctx.add_command({"direct", "send one request over the direct transport (debugging)",
                         "direct call ADDRESS SERVICE TEXT [--timeout-ms N]",
                         [&ctx](sdk::CommandCall c) { call_command(ctx, c); }});
    }
    void stop() override {
        if (transport_) transport_->close();
    }

private:
    std::unique_ptr<DirectTransport> transport_;
};

constexpr std::string_view kProvides[] = {"transport"};
constexpr std::string_view kCommands[] = {"direct"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"listen", sdk::ConfigType::string, "", "accept inbound requests at host:port (empty: do not listen)"},
    {"echo", sdk::ConfigType::boolean, "false", "serve the debugging service 'echo' (replies with the body)"},
    {"max_frame_bytes", sdk::ConfigType::integer, "1048576", "largest frame accepted or sent"},
    {"idle_timeout_ms", sdk::ConfigType::integer, "60000", "close idle connections after this long"},
    {"connect_timeout_ms", sdk::ConfigType::integer, "5000", "give up connecting after this long"},
    {"inbound_timeout_ms", sdk::ConfigType::integer, "30000", "how long a local service may take to answer"},
};
constexpr sdk::PluginInfo kInfo{
    .name = "direct",
    .version = "0.1.0",
    .kind = sdk::PluginKind::transport,
    .description = "length-prefixed frames over TCP, straight to the node (NOT anonymous: tests, debugging)",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::direct

VEIL_PLUGIN(direct, veil::direct::kInfo, veil::direct::DirectPlugin)
