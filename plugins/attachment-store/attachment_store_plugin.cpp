// plugins/attachment-store: descriptor, config table and wiring only; the store is
// blob_store.cpp, the node-side runtime store_runtime.cpp (the protocol is veil/proto/blob_rpc.hpp).
#include "store_runtime.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/node.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::attachment_store {

namespace {

std::uint64_t positive(const sdk::Config& c, std::string_view key) {
    auto v = c.get_int(key);
    if (v <= 0) throw std::runtime_error("attachment-store." + std::string(key) + " must be positive");
    return static_cast<std::uint64_t>(v);
}

class AttachmentStorePlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        if (sdk::node::runs_operator_command(ctx.commands())) return;  // the node runs elsewhere
        const auto& c = ctx.config();
        RuntimeSettings s;
        // The limit is on files (what people see); the store holds their padded ciphertext.
        s.limits.max_blob_bytes = std::min(max_stored_bytes(positive(c, "max_file_bytes")), kMaxBlobBytes);
        s.limits.max_total_bytes = positive(c, "max_total_bytes");
        s.limits.expiry_ms = positive(c, "expiry_ms");
        s.limits.max_pending = static_cast<std::size_t>(positive(c, "max_pending_uploads"));
        s.limits.max_pending_per_source = static_cast<std::size_t>(positive(c, "max_pending_uploads_per_source"));
        s.limits.pending_idle_ms = positive(c, "pending_idle_ms");
        s.upload_bytes_per_second = static_cast<double>(positive(c, "upload_bytes_per_second"));
        s.upload_byte_burst = static_cast<double>(positive(c, "upload_byte_burst"));
        // A burst below one chunk would refuse every upload of that link forever.
        if (s.upload_byte_burst < static_cast<double>(kChunkBytes))
            throw std::runtime_error("attachment-store.upload_byte_burst must hold one chunk (" + std::to_string(kChunkBytes) + " bytes)");
        s.sweep_ms = positive(c, "sweep_ms");
        s.catch_up_ms = positive(c, "catch_up_ms");
        runtime_ = std::make_unique<StoreRuntime>(ctx, s);
        runtime_->start();
    }
    void stop() override {
        if (runtime_) runtime_->stop();
    }

private:
    std::unique_ptr<StoreRuntime> runtime_;
};

constexpr sdk::ConfigKeySpec kKeys[] = {
    {"max_file_bytes", sdk::ConfigType::integer, "10485760",
     "largest attachment (plaintext) whose padded ciphertext is accepted: 10 MiB"},
    {"max_total_bytes", sdk::ConfigType::integer, "10737418240", "disk held by blobs and uploads in progress"},
    {"expiry_ms", sdk::ConfigType::integer, "1209600000", "how long a blob is kept (14 days)"},
    {"max_pending_uploads", sdk::ConfigType::integer, "64", "partial uploads at once"},
    {"max_pending_uploads_per_source", sdk::ConfigType::integer, "16",
     "of those, started from one source (an IPv4 address or IPv6 /64: a client's, or a relay's carrying onion-routed uploads)"},
    {"upload_bytes_per_second", sdk::ConfigType::integer, "33554432", "chunk bytes one connection may upload a second"},
    {"upload_byte_burst", sdk::ConfigType::integer, "67108864", "chunk bytes one connection may upload at once"},
    {"pending_idle_ms", sdk::ConfigType::integer, "600000", "a partial upload untouched this long is dropped"},
    {"sweep_ms", sdk::ConfigType::integer, "60000", "how often expired blobs are deleted"},
    {"catch_up_ms", sdk::ConfigType::integer, "60000", "how often blobs missed while down are fetched from swarm peers"},
};
constexpr std::string_view kProvides[] = {"attachment-store"};
constexpr std::string_view kRequires[] = {"service-node"};

constexpr sdk::PluginInfo kInfo{
    .name = "attachment-store",
    .version = "0.1.0",
    .kind = sdk::PluginKind::role,
    .description = "service node: encrypted attachment blobs, chunked, replicated in the swarm, expiring",
    .provides = kProvides,
    .requires_ = kRequires,
    .config = kKeys,
    .commands = {},
};

}  // namespace
}  // namespace veil::attachment_store

VEIL_PLUGIN(attachment_store, veil::attachment_store::kInfo, veil::attachment_store::AttachmentStorePlugin)
