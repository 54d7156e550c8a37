#pragma once
// An in-process onion client against a running testnet: fetches the manifest from the seeds of
// DIR/network.toml and sends storage RPCs through three relays. For integration tests and the
// network benchmark. Loop-thread only.
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>

#include "manifest_source.hpp"
#include "onion_client.hpp"
#include "veil/proto/node_rpc.hpp"

namespace veil::test {

class OnionRig final {
public:
    using Done = std::function<void(sdk::Result<sdk::transport::Response>)>;

    explicit OnionRig(const std::filesystem::path& testnet_dir) {
        if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
        uv_loop_init(&loop_);
        std::ifstream in(testnet_dir / "network.toml");
        std::string network((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        network::ManifestSourceOptions o;
        std::smatch m;
        if (!std::regex_search(network, m, std::regex("authority_keys = \\[([^\\]]*)\\]")))
            throw std::runtime_error("no authority key in network.toml");
        std::string keys = m[1].str();
        std::regex hex("[0-9a-f]{64}");
        for (std::sregex_iterator it(keys.begin(), keys.end(), hex), end; it != end; ++it)
            o.authorities.push_back(veil::wire::to_array<32>(veil::wire::from_hex(it->str())));
        o.threshold = o.authorities.size() / 2 + 1;
        std::string seeds = network.substr(network.find("seed_nodes"));
        std::regex quoted("\"([0-9.:]+)\"");
        for (std::sregex_iterator it(seeds.begin(), seeds.end(), quoted), end; it != end; ++it) o.seeds.push_back((*it)[1]);
        source_.emplace(&loop_, o, nullptr);
        bool fetched = false;
        source_->refresh([&](bool) { fetched = true; });
        run_until([&] { return fetched; });
        if (!source_->manifest()) throw std::runtime_error("no manifest from the testnet");
        client_.emplace(&loop_, onion::OnionClientOptions{});
        std::vector<onion::NodeInfo> nodes;
        for (const auto& n : manifest().nodes)
            nodes.push_back({n.ed25519, n.x25519, n.host + ":" + std::to_string(n.port), n.swarm});
        client_->set_nodes(nodes);
    }
    ~OnionRig() {
        client_.reset();
        source_.reset();
        for (int i = 0; i < 10; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
        uv_loop_close(&loop_);
    }
    OnionRig(const OnionRig&) = delete;
    OnionRig& operator=(const OnionRig&) = delete;

    uv_loop_t* loop() { return &loop_; }
    const proto::Manifest& manifest() const { return *source_->manifest(); }
    network::ManifestSource& source() { return *source_; }
    onion::OnionClient& client() { return *client_; }

    /// A storage RPC to `target` through the onion client (asynchronous).
    void send(const proto::NodeEntry& target, const proto::node::RequestBody& body, std::uint32_t timeout_ms, Done done) {
        sdk::transport::Request r;
        r.to = {veil::wire::to_hex(target.ed25519), target.host + ":" + std::to_string(target.port)};
        r.service = "storage";
        r.body = proto::node::encode_request({next_id_++, body});
        r.timeout_ms = timeout_ms;
        client_->send(r, std::move(done));
    }

    /// Runs the loop until `done()`.
    void run_until(const std::function<bool()>& done) {
        while (!done()) uv_run(&loop_, UV_RUN_ONCE);
    }

private:
    uv_loop_t loop_{};
    std::optional<network::ManifestSource> source_;
    std::optional<onion::OnionClient> client_;
    std::uint32_t next_id_ = 1;
};

}  // namespace veil::test
