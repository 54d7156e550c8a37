// A bot: answers every incoming text with a fixed reply, through the messenger contract on the
// bus (veil/sdk/messenger.hpp). Enable it next to the messenger in HOME/veil.toml and run
// `veil daemon`.
#include <stdexcept>

#include "veil/sdk/messenger.hpp"
#include "veil/sdk/plugin.hpp"

namespace autoreply {

namespace m = veil::sdk::messenger;

class AutoreplyBot final : public veil::sdk::Plugin {
public:
    void start(veil::sdk::Context& ctx) override {
        reply_ = ctx.config().get_string("reply");  // checked by check_config() below
        // start() runs for every command on this HOME (`veil send`, `veil id`...). Answer only
        // in a resident run: `veil daemon`, or a kernel in the foreground with no command.
        const auto& invocation = ctx.commands().invocation();
        if (invocation && !invocation->empty() && invocation->front() != "daemon") return;
        ctx.on<m::MessageAdded>([this, &ctx](const m::MessageAdded& added) {
            const m::Message& msg = added.message;
            // Own messages (this bot's replies, copies from other devices) come here too.
            if (msg.outgoing || msg.text.empty()) return;
            // Answering a message request accepts it: the stranger becomes a contact.
            (void)ctx.bus().request<m::SendMessage>({msg.peer, reply_, ""}, 60'000,
                                                    [&ctx](veil::sdk::Result<m::Queued> r) {
                                                        if (!r) ctx.log().warn("no auto reply: {}", r.error().message);
                                                    });
        });
    }
    void stop() override {}

private:
    std::string reply_;
};

// Run by `veil config check` and before start(): the config check refuses what start() would.
void check_config(const veil::sdk::Config& config) {
    auto size = config.get_string("reply").size();
    if (size == 0 || size > m::kMaxTextBytes) throw std::invalid_argument("autoreply.reply must be 1 to 16384 bytes");
}

constexpr std::string_view kRequires[] = {"messenger"};  // started after it, refused without it
constexpr veil::sdk::ConfigKeySpec kKeys[] = {
    {"reply", veil::sdk::ConfigType::string, "I am away; I will answer later.", "the text sent back"},
};
constexpr veil::sdk::PluginInfo kInfo{
    .name = "autoreply",
    .version = "1.0.0",
    .kind = veil::sdk::PluginKind::frontend,  // it uses the messenger as a person would
    .description = "example bot: answers every incoming text",
    .provides = {},
    .requires_ = kRequires,
    .config = kKeys,
    .commands = {},
    .check_config = &check_config,
};

}  // namespace autoreply

VEIL_PLUGIN(autoreply, autoreply::kInfo, autoreply::AutoreplyBot)
