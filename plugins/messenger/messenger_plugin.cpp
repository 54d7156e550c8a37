// plugins/messenger: registration and wiring only; the logic is in the core library (account,
// conversations, ...), service.* (network), account_store.* (database) and client*.
#include "bus_server.hpp"
#include "messenger_commands.hpp"
#include "resident_commands.hpp"
#include "veil/sdk/plugin.hpp"

#include <stdexcept>

namespace veil::messenger {
namespace {

class MessengerPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        service_ = std::make_unique<Service>(ctx);
        store_ = std::make_unique<AccountStore>(ctx);
        client_ = std::make_unique<Client>(ctx, *service_, *store_);
        add_messenger_commands(ctx, *service_, *store_, *client_);
        add_resident_commands(ctx, *client_);
        serve_messenger_contract(ctx, *client_);
        // A kernel in the foreground without a command is a resident client too.
        ctx.on<sdk::KernelStarted>([&ctx, this](const sdk::KernelStarted&) {
            if (ctx.commands().invocation()) return;
            start_resident(*client_, [&ctx] { ctx.log().info("resident client online"); },
                           [&ctx](const sdk::Error& e) { ctx.log().error("the resident client cannot start: {}", e.message); });
        });
    }
    void stop() override {
        client_.reset();
        store_.reset();
        service_.reset();
    }

private:
    std::unique_ptr<Service> service_;
    std::unique_ptr<AccountStore> store_;
    std::unique_ptr<Client> client_;
};

// `veil init` lives in plugins/setup, so every command here runs with HOME's config: storage for
// the database, network for swarms and manifests, a transport to reach them.
constexpr std::string_view kProvides[] = {"messenger"};
constexpr std::string_view kRequires[] = {"storage", "network", "transport"};
constexpr std::string_view kCommands[] = {"create-account", "id",        "send",     "receive", "devices",
                                          "contacts", "disappear", "messages", "daemon",  "chat"};
constexpr sdk::ConfigKeySpec kConfig[] = {
    {"peer_list_refresh_s", sdk::ConfigType::integer, "600",
     "how often a peer's device list is read again (on receipt when older; the daemon on this schedule)"},
};
void check_config(const sdk::Config& c) {
    if (c.get_int("peer_list_refresh_s") < 1) throw std::invalid_argument("messenger.peer_list_refresh_s must be at least 1");
}
constexpr sdk::PluginInfo kInfo{
    "messenger", "0.2.0", sdk::PluginKind::role,
    "one-to-one messages: identity, devices, X3DH + Double Ratchet sessions, sealed envelopes in swarms; the resident client",
    kProvides, kRequires, kConfig, kCommands, check_config};

}  // namespace
}  // namespace veil::messenger

VEIL_PLUGIN(messenger, veil::messenger::kInfo, veil::messenger::MessengerPlugin)
