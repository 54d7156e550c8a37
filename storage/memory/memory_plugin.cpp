// storage/memory: registration, config and bus wiring of MemoryStore.
#include <memory>

#include "memory_store.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::memory {

namespace {

class MemoryPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        auto max = ctx.config().get_int("max_bytes");
        if (max <= 0) throw std::invalid_argument("memory.max_bytes must be positive");
        store_ = std::make_unique<MemoryStore>(static_cast<std::size_t>(max));
        sdk::storage::serve_storage(ctx, *store_);
        ctx.log().debug("in-memory storage ready ({} bytes max); nothing survives a restart", max);
    }
    // The Context drops the bus servers before the plugin is destroyed; the store goes last.
    void stop() override {}

private:
    std::unique_ptr<MemoryStore> store_;
};

constexpr std::string_view kProvides[] = {"storage"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"max_bytes", sdk::ConfigType::integer, "67108864", "budget for keys + values, in bytes"},
};
constexpr sdk::PluginInfo kInfo{
    .name = "memory",
    .version = "0.1.0",
    .kind = sdk::PluginKind::storage,
    .description = "volatile key/value storage (tests, small devices); implements the storage contract",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = {},
};

}  // namespace
}  // namespace veil::memory

VEIL_PLUGIN(memory, veil::memory::kInfo, veil::memory::MemoryPlugin)
