#pragma once
// The set-up the node integration tests share: an RPC client whose loop must close cleanly at the
// end of each test, and a call that waits out a node still fetching its manifest.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

#include "support/node_rpc.hpp"

namespace veil::test {

struct CheckedRpc final : NodeRpc {
    ~CheckedRpc() { CHECK(close() == 0); }
};

/// The node's answer to `body`, asked again (up to 5 s) while the node answers not_ready.
inline proto::node::Response call_ready(NodeRpc& rpc, std::uint16_t port, const proto::node::RequestBody& body) {
    std::optional<proto::node::Response> r;
    for (int attempt = 0; attempt < 50; ++attempt) {
        r = rpc.call(port, body);
        if (r && r->status != proto::node::Status::not_ready) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(r);
    return *r;
}

}  // namespace veil::test
