#include <catch2/catch.hpp>

#include "pending_deletes.hpp"
#include "record.hpp"

using namespace veil::messenger;

TEST_CASE("pending deletes - a kept hash comes back from its key; other keys name none", "[messenger]") {
    veil::proto::node::Hash h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i * 7);
    auto put = pending_delete_op(h);
    CHECK(put.kind == veil::sdk::storage::BatchOp::Kind::put);
    CHECK(put.ns == kStorageNs);
    CHECK(put.key.starts_with(kPendingDeletePrefix));
    CHECK(pending_delete_hash(put.key) == h);
    auto erase = pending_delete_erase_op(h);
    CHECK(erase.kind == veil::sdk::storage::BatchOp::Kind::erase);
    CHECK(erase.key == put.key);
    // Damaged or foreign keys are skipped, never thrown on.
    CHECK_FALSE(pending_delete_hash("msg/" + put.key.substr(kPendingDeletePrefix.size())).has_value());
    CHECK_FALSE(pending_delete_hash(put.key.substr(0, put.key.size() - 2)).has_value());
    CHECK_FALSE(pending_delete_hash(std::string(kPendingDeletePrefix) + std::string(64, 'z')).has_value());
}
