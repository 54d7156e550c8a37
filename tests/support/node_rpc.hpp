#pragma once
// Blocking storage RPC calls to nodes on 127.0.0.1 over the SDK's framed TCP client, on a
// private loop (one per thread), as service "storage" requests; a mailbox owner that signs
// them; the manifest a node serves. For integration tests and benchmarks (no Catch here).
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "veil/crypto/keys.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::test {

class NodeRpc {
public:
    NodeRpc() { uv_loop_init(&loop_); }
    ~NodeRpc() { close(); }
    /// Closes every connection and the loop; returns uv_loop_close's result (0: nothing leaked).
    int close() {
        if (closed_) return 0;
        closed_ = true;
        clients_.clear();
        uv_run(&loop_, UV_RUN_DEFAULT);
        return uv_loop_close(&loop_);
    }
    NodeRpc(const NodeRpc&) = delete;
    NodeRpc& operator=(const NodeRpc&) = delete;

    /// The node's answer, or nullopt when the transport failed (refused, timeout, closed, or a
    /// service status other than ok).
    std::optional<proto::node::Response> call(std::uint16_t port, proto::node::RequestBody body, std::uint64_t timeout_ms = 5000) {
        proto::node::Method m = proto::node::method_of(body);
        auto request = proto::node::encode_request(proto::node::Request{next_id_++, std::move(body)});
        auto answer = ask(port, proto::node::kStorageService, request, timeout_ms);
        if (!answer || answer.value().status != sdk::transport::Status::ok) return std::nullopt;
        return proto::node::decode_response(m, answer.value().body);
    }

    /// One service request (`str(service) | var(body)`) and the service's answer; an error when
    /// the frame failed or did not carry a service response.
    sdk::Result<sdk::transport::Response> ask(std::uint16_t port, std::string_view service, const wire::Bytes& body,
                                              std::uint64_t timeout_ms = 5000) {
        auto frame = exchange(port, sdk::transport::encode_service_request(service, body), timeout_ms);
        if (!frame) return frame.error();
        return sdk::transport::decode_service_response(frame.value(), frame.value().size());
    }

    /// One frame with any payload, and the frame's result (for tests of the framing itself).
    sdk::Result<wire::Bytes> exchange(std::uint16_t port, const wire::Bytes& payload, std::uint64_t timeout_ms = 5000) {
        auto& c = clients_[port];
        if (!c) c = std::make_unique<sdk::net::Client>(&loop_, sdk::net::Endpoint{host, port}, options);
        std::optional<sdk::Result<wire::Bytes>> got;
        // The loop runs only inside calls: without this its clock is as old as the last call, and
        // a timeout armed after a pause longer than itself expires at once.
        uv_update_time(&loop_);
        c->request(payload, timeout_ms, [&got](sdk::Result<wire::Bytes> r) { got = std::move(r); });
        while (!got) uv_run(&loop_, UV_RUN_ONCE);
        return std::move(*got);
    }

    /// For connections opened from now on (raise max_frame_bytes to send a large frame).
    sdk::net::ClientOptions options;
    /// Where the nodes are, for connections opened from now on (a `--hosts` testnet: one address each).
    std::string host = "127.0.0.1";

private:
    uv_loop_t loop_{};
    std::map<std::uint16_t, std::unique_ptr<sdk::net::Client>> clients_;
    std::uint32_t next_id_ = 1;
    bool closed_ = false;
};

/// A mailbox owner (its Ed25519 key is the mailbox) whose signed requests carry strictly
/// increasing timestamps, so none is refused as a replay.
struct MailboxOwner {
    crypto::SigningKeyPair key = crypto::SigningKeyPair::generate();
    std::uint64_t last_ts = 0;
    proto::node::RequestBody sign(proto::node::RequestBody body) {
        last_ts = std::max(sdk::now_ms(), last_ts + 1);
        proto::node::sign_owner_request(body, key, last_ts);
        return body;
    }
};

/// The manifest the node at `port` serves, once it lists `node_count` nodes (polled for up to
/// 10 s: a node may still be fetching it). With `verifier`, it must pass its check (a
/// testnet's authorities, a majority of them). Throws std::runtime_error otherwise.
inline proto::Manifest complete_manifest(NodeRpc& rpc, std::uint16_t port, std::size_t node_count,
                                         const proto::ManifestVerifier* verifier = nullptr) {
    using namespace proto::node;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto r = rpc.call(port, GetManifestRequest{});
        if (r && r->status == Status::ok) {
            auto m = proto::decode_signed_manifest(std::get<ManifestResponse>(r->body).envelope);
            if (verifier && verifier->check(m, sdk::now_ms()) != proto::ManifestCheck::ok)
                throw std::runtime_error(std::string("the manifest does not verify under the testnet's authorities: ") +
                                         proto::to_string(verifier->check(m, sdk::now_ms())));
            if (m.manifest.nodes.size() == node_count) return m.manifest;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("no complete manifest from the node at port " + std::to_string(port));
}

}  // namespace veil::test
