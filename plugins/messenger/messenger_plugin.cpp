// plugins/messenger: registration and wiring only; the logic is in account.* and service.*.
#include "messenger_commands.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::messenger {
namespace {

class MessengerPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        service_ = std::make_unique<Service>(ctx);
        add_messenger_commands(ctx, *service_);
    }
    void stop() override { service_.reset(); }

private:
    std::unique_ptr<Service> service_;
};

constexpr std::string_view kProvides[] = {"messenger"};
constexpr std::string_view kCommands[] = {"init", "id", "send", "receive", "devices"};
constexpr sdk::PluginInfo kInfo{
    "messenger", "0.1.0", sdk::PluginKind::role,
    "one-to-one messages: identity, devices, X3DH + Double Ratchet sessions, sealed envelopes in swarms",
    kProvides, {}, {}, kCommands};

}  // namespace
}  // namespace veil::messenger

VEIL_PLUGIN(messenger, veil::messenger::kInfo, veil::messenger::MessengerPlugin)
