// plugins/service-node: descriptor, config table and wiring only; the runtime is in
// node_runtime.cpp and the rules in service.cpp, store.cpp and catch_up.cpp; the
// protocol in sdk/proto (node_rpc, peer_rpc, owner_auth).
#include "node_runtime.hpp"
#include "node_status.hpp"
#include "veil/sdk/node.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::node {

namespace {

std::uint64_t positive(const sdk::Config& c, std::string_view key) {
    auto v = c.get_int(key);
    if (v <= 0) throw std::runtime_error("service-node." + std::string(key) + " must be positive");
    return static_cast<std::uint64_t>(v);
}

RuntimeSettings settings_from(sdk::Context& ctx) {
    const auto& c = ctx.config();
    RuntimeSettings s;
    s.listen = c.get_string("listen");
    s.public_host = c.get_string("public_host");
    s.directories = c.get_strings("directories");
    if (s.directories.empty()) s.directories.push_back(c.get_string("directory"));
    try {
        auto authorities = proto::read_authority_set("service-node", c.get_strings("authority_keys"), c.get_int("authority_threshold"));
        s.authority_keys = std::move(authorities.keys);
        s.authority_threshold = authorities.threshold;
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }
    auto path_or = [&](std::string_view key, const char* fallback) {
        const auto& v = c.get_string(key);
        return v.empty() ? ctx.data_dir() / fallback : std::filesystem::path(v);
    };
    s.key_file = path_or("key_file", "node.key");
    for (const auto& tag : c.get_strings("sign_domains")) {
        // "veil-" tags are the protocol's own: a plugin must never obtain the node's signature
        // on a peer envelope or a descriptor. Six bytes at least, so no tag is a prefix of "veil-".
        if (tag.size() < 6 || tag.starts_with("veil-"))
            throw std::runtime_error("service-node.sign_domains: '" + tag +
                                     "' must be at least 6 characters and must not start with \"veil-\" (reserved)");
        s.sign_domains.push_back(tag);
    }
    s.db_file = path_or("db_file", "messages.db");
    if (c.get_bool("db_encrypt")) s.db_key_file = path_or("db_key_file", "db.key");
    s.synchronous_full = c.get_bool("synchronous_full");
    s.heartbeat_ms = positive(c, "heartbeat_ms");
    s.manifest_poll_ms = positive(c, "manifest_poll_ms");
    s.sweep_ms = positive(c, "sweep_ms");
    s.catch_up_ms = positive(c, "catch_up_ms");
    s.catch_up_bounds.peer_turn_ms = positive(c, "catch_up_peer_ms");
    s.test_misbehave = c.get_string("test_misbehave");
    s.metrics_listen = c.get_string("metrics_listen");
    if (!s.test_misbehave.empty() && s.test_misbehave != "overprice" && s.test_misbehave != "drop" &&
        s.test_misbehave != "endless_pages" && s.test_misbehave != "stale_device_lists")
        throw std::runtime_error("service-node.test_misbehave: '" + s.test_misbehave +
                                 "' is not overprice, drop, endless_pages or stale_device_lists");
    s.limits.max_data_bytes = std::min<std::size_t>(positive(c, "max_data_bytes"), kMaxDataBytes);
    s.limits.max_ttl_ms = positive(c, "max_ttl_ms");
    s.limits.min_ttl_ms = std::min(positive(c, "min_ttl_ms"), s.limits.max_ttl_ms);
    s.limits.max_messages_per_mailbox = positive(c, "max_messages_per_mailbox");
    s.limits.max_bytes_per_mailbox = positive(c, "max_bytes_per_mailbox");
    s.limits.max_tombstones_per_mailbox = positive(c, "max_tombstones_per_mailbox");
    s.limits.max_proof_bytes_per_mailbox = positive(c, "max_proof_bytes_per_mailbox");
    s.limits.max_stored_bytes = positive(c, "max_stored_bytes");
    auto& w = s.limits.work;
    w.free_fraction = c.get_double("work_free_fraction");
    w.base_work = c.get_double("work_base_hashes");
    w.exponent = c.get_double("work_exponent");
    if (!(w.free_fraction > 0 && w.free_fraction <= 1) || !(w.base_work >= 1) || !(w.exponent >= 0))
        throw std::runtime_error("service-node: work_free_fraction must be in (0, 1], work_base_hashes >= 1, work_exponent >= 0");
    s.limits.node_work_free_fraction = c.get_double("node_work_free_fraction");
    if (!(s.limits.node_work_free_fraction > 0 && s.limits.node_work_free_fraction <= 1))
        throw std::runtime_error("service-node: node_work_free_fraction must be in (0, 1]");
    s.limits.clock_window_ms = positive(c, "clock_window_ms");
    s.limits.max_subscribe_wait_ms = static_cast<std::uint32_t>(positive(c, "max_subscribe_wait_ms"));
    s.limits.requests_per_second = c.get_double("requests_per_second");
    s.limits.request_burst = c.get_double("request_burst");
    if (s.limits.requests_per_second <= 0 || s.limits.request_burst < 1)
        throw std::runtime_error("service-node: requests_per_second must be > 0 and request_burst >= 1");
    s.limits.peer_requests_per_second = c.get_double("peer_requests_per_second");
    s.limits.peer_request_burst = c.get_double("peer_request_burst");
    s.limits.peer_bytes_per_second = c.get_double("peer_bytes_per_second");
    s.limits.peer_byte_burst = c.get_double("peer_byte_burst");
    // A burst below the largest envelope would refuse a member's large replication forever.
    if (s.limits.peer_requests_per_second <= 0 || s.limits.peer_request_burst < 1 || s.limits.peer_bytes_per_second <= 0 ||
        s.limits.peer_byte_burst < static_cast<double>(kMaxPeerBodyBytes + 4096))
        throw std::runtime_error("service-node: peer rates must be > 0, peer_request_burst >= 1, peer_byte_burst >= 16 MiB + 4096");
    s.limits.peer_verifies_per_second = c.get_double("peer_verifies_per_second");
    s.limits.peer_verify_burst = c.get_double("peer_verify_burst");
    if (s.limits.peer_verifies_per_second <= 0 || s.limits.peer_verify_burst < 1)
        throw std::runtime_error("service-node: peer_verifies_per_second must be > 0 and peer_verify_burst >= 1");
    s.limits.bucket_page_states = positive(c, "bucket_page_states");
    s.limits.bucket_page_bytes = positive(c, "bucket_page_bytes");
    if (s.limits.bucket_page_states > kMaxStatesPerPage || s.limits.bucket_page_bytes > kMaxPageBytes)
        throw std::runtime_error("service-node: bucket_page_states must be <= " + std::to_string(kMaxStatesPerPage) +
                                 " and bucket_page_bytes <= " + std::to_string(kMaxPageBytes));
    auto& d = s.limits.doors;
    d.idle_timeout_ms = positive(c, "idle_timeout_ms");
    d.frame_deadline_ms = positive(c, "frame_deadline_ms");
    d.max_connections = positive(c, "max_connections");
    d.connections_per_source = positive(c, "connections_per_source");
    d.connections_per_group = positive(c, "connections_per_group");
    d.held_long_polls_per_group = positive(c, "held_long_polls_per_group");
    d.held_long_polls = positive(c, "held_long_polls");
    d.loopback_per_connection = c.get_bool("loopback_per_connection");
    d.partial_frame_budget = positive(c, "partial_frame_budget");
    return s;
}

class ServiceNodePlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        // `veil node status` beside a running node: the node holds the port and the files.
        if (sdk::node::runs_operator_command(ctx.commands())) {
            add_status_command(ctx, ctx.config().get_string("metrics_listen"));
            return;
        }
        runtime_ = std::make_unique<NodeRuntime>(ctx, settings_from(ctx));
        runtime_->start();
    }
    void stop() override {
        if (runtime_) runtime_->stop();
    }

private:
    std::unique_ptr<NodeRuntime> runtime_;
};

constexpr sdk::ConfigKeySpec kKeys[] = {
    {"listen", sdk::ConfigType::string, "127.0.0.1:7800", "address the storage RPC listens on"},
    {"public_host", sdk::ConfigType::string, "", "host advertised in the manifest (default: the listen host)"},
    {"directory", sdk::ConfigType::string, "127.0.0.1:7700", "directory authority to register with (when directories is empty)"},
    {"directories", sdk::ConfigType::string_list, "[]", "host:port of every directory authority: the node registers with each and polls them in turn"},
    {"authority_keys", sdk::ConfigType::string_list, "", "hex Ed25519 keys of the directory authorities", true},
    {"authority_threshold", sdk::ConfigType::integer, "0", "signatures needed on a manifest (k of n); 0: more than half of authority_keys; less than that is refused"},
    {"key_file", sdk::ConfigType::string, "", "node identity seed (default HOME/service-node/node.key)"},
    {"sign_domains", sdk::ConfigType::string_list, "[]",
     "domain tags co-located plugins may have the node sign (the attachment store's is built in)"},
    {"db_file", sdk::ConfigType::string, "", "message database (default HOME/service-node/messages.db)"},
    {"db_encrypt", sdk::ConfigType::boolean, "true", "encrypt the database with SQLCipher (key in db_key_file)"},
    {"db_key_file", sdk::ConfigType::string, "", "database key file, 0600 (default HOME/service-node/db.key)"},
    {"synchronous_full", sdk::ConfigType::boolean, "false",
     "fsync every commit (NORMAL already survives kill -9 in WAL mode; FULL adds power loss)"},
    {"heartbeat_ms", sdk::ConfigType::integer, "3000", "how often the node re-registers with the directory"},
    {"manifest_poll_ms", sdk::ConfigType::integer, "1000", "how often the node fetches the manifest"},
    {"sweep_ms", sdk::ConfigType::integer, "10000", "how often expired messages are deleted"},
    {"catch_up_ms", sdk::ConfigType::integer, "30000", "how often the node reconciles with its swarm"},
    {"test_misbehave", sdk::ConfigType::string, "",
     "tests only: answer as a hostile member (overprice: ask 2^60 hashes; drop: ok, not kept; endless_pages: catch-up; stale_device_lists: serve lists from before the newest)"},
    {"catch_up_peer_ms", sdk::ConfigType::integer, "300000",
     "longest turn of one peer in a catch-up round (then it is dropped and the round goes on)"},
    {"max_data_bytes", sdk::ConfigType::integer, "76800", "largest message accepted"},
    {"min_ttl_ms", sdk::ConfigType::integer, "10000", "shortest TTL accepted"},
    {"max_ttl_ms", sdk::ConfigType::integer, "1209600000", "longest TTL accepted (14 days)"},
    {"max_messages_per_mailbox", sdk::ConfigType::integer, "10000", "quota: messages per mailbox and namespace"},
    {"max_bytes_per_mailbox", sdk::ConfigType::integer, "104857600", "quota: bytes per mailbox and namespace"},
    {"max_tombstones_per_mailbox", sdk::ConfigType::integer, "10000", "quota: tombstones per mailbox and namespace"},
    {"max_proof_bytes_per_mailbox", sdk::ConfigType::integer, "8388608",
     "quota: bytes of owner proofs kept per mailbox and namespace (past it the oldest are forgotten)"},
    {"max_stored_bytes", sdk::ConfigType::integer, "17179869184",
     "the whole node: bytes of messages and proofs held; new messages are refused past it (16 GiB)"},
    {"work_free_fraction", sdk::ConfigType::floating, "0.25",
     "strangers' envelope stores need no work while the namespace is less full than this (1: never)"},
    {"work_base_hashes", sdk::ConfigType::floating, "16384", "work asked at that fill for a 14-day, 10 KiB envelope"},
    {"work_exponent", sdk::ConfigType::floating, "3", "how steeply work rises as the quota's headroom shrinks"},
    {"node_work_free_fraction", sdk::ConfigType::floating, "0.5",
     "every new message (owner-signed too) pays proof of work once the node holds this share of max_stored_bytes (1: never)"},
    {"clock_window_ms", sdk::ConfigType::integer, "60000", "signed timestamps must be this close to the clock"},
    {"max_subscribe_wait_ms", sdk::ConfigType::integer, "60000", "longest subscribe long-poll"},
    {"requests_per_second", sdk::ConfigType::floating, "50", "per-connection rate limit (client requests)"},
    {"request_burst", sdk::ConfigType::floating, "200", "per-connection burst (token bucket size)"},
    {"peer_requests_per_second", sdk::ConfigType::floating, "500", "per swarm member: peer requests a second"},
    {"peer_request_burst", sdk::ConfigType::floating, "2000", "per swarm member: peer request burst"},
    {"peer_bytes_per_second", sdk::ConfigType::floating, "16777216", "per swarm member: peer envelope bytes a second"},
    {"peer_byte_burst", sdk::ConfigType::floating, "33554432", "per swarm member: peer envelope byte burst"},
    {"peer_verifies_per_second", sdk::ConfigType::floating, "2000",
     "per swarm member: owner signatures verified for its replication, sustained"},
    {"peer_verify_burst", sdk::ConfigType::floating, "20000", "per swarm member: owner signature verification burst"},
    {"bucket_page_states", sdk::ConfigType::integer, "10000", "catch-up: most states in one bucket page answered to a peer"},
    {"bucket_page_bytes", sdk::ConfigType::integer, "4194304", "catch-up: about the most bytes in one bucket page"},
    {"idle_timeout_ms", sdk::ConfigType::integer, "60000", "a connection without a complete frame this long is closed"},
    {"frame_deadline_ms", sdk::ConfigType::integer, "30000", "a frame must complete this long after its first byte"},
    {"max_connections", sdk::ConfigType::integer, "1024", "open connections; when full the group holding most loses an idle one"},
    {"connections_per_source", sdk::ConfigType::integer, "64", "open connections per IPv4 address or IPv6 /64"},
    {"connections_per_group", sdk::ConfigType::integer, "256", "open connections per IPv4 /24 or IPv6 /48"},
    {"held_long_polls_per_group", sdk::ConfigType::integer, "64",
     "connections per group an owner's signed long-poll keeps from being cut when the node is full"},
    {"held_long_polls", sdk::ConfigType::integer, "512",
     "connections owners' signed long-polls keep from being cut, all groups together (keep below max_connections)"},
    {"loopback_per_connection", sdk::ConfigType::boolean, "false",
     "testnets only: each loopback connection is its own source (never on a reachable node)"},
    {"partial_frame_budget", sdk::ConfigType::integer, "67108864", "bytes of partial frames buffered, all connections"},
    {"metrics_listen", sdk::ConfigType::string, "",
     "host:port serving the node's counters (Prometheus text, GET /metrics) and read by `veil node status`; empty: off. Keep it on loopback"},
};
constexpr std::string_view kCommands[] = {"node"};
constexpr std::string_view kProvides[] = {"service-node"};

constexpr sdk::PluginInfo kInfo{
    .name = "service-node",
    .version = "0.1.0",
    .kind = sdk::PluginKind::role,
    .description = "service node: swarm message storage with replication and expiry",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::node

VEIL_PLUGIN(service_node, veil::node::kInfo, veil::node::ServiceNodePlugin)
