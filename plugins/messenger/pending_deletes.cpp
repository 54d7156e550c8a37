#include "pending_deletes.hpp"

#include "record.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {
namespace {
std::string key_of(const proto::node::Hash& hash) { return std::string(kPendingDeletePrefix) + wire::to_hex(hash); }
}  // namespace

sdk::storage::BatchOp pending_delete_op(const proto::node::Hash& hash) {
    return {sdk::storage::BatchOp::Kind::put, std::string(kStorageNs), key_of(hash), {}};
}

sdk::storage::BatchOp pending_delete_erase_op(const proto::node::Hash& hash) {
    return {sdk::storage::BatchOp::Kind::erase, std::string(kStorageNs), key_of(hash), {}};
}

std::optional<proto::node::Hash> pending_delete_hash(std::string_view key) {
    if (!key.starts_with(kPendingDeletePrefix)) return std::nullopt;
    key.remove_prefix(kPendingDeletePrefix.size());
    if (key.size() != 2 * proto::node::Hash{}.size()) return std::nullopt;
    try {
        auto bytes = wire::from_hex(key);
        if (bytes.size() != proto::node::Hash{}.size()) return std::nullopt;
        return wire::to_array<32>(bytes);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace veil::messenger
