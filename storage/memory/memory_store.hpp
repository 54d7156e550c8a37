#pragma once
// An in-memory implementation of the storage contract (sdk/storage.hpp): ordered maps per
// namespace, a byte budget, atomic batches. Loop thread only; completions run before return.
#include <cstddef>
#include <map>
#include <string>

#include "veil/sdk/storage.hpp"

namespace veil::memory {

class MemoryStore final : public sdk::storage::Backend {
public:
    /// `max_bytes`: keys + values of all namespaces; writes beyond it are refused.
    explicit MemoryStore(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    void put(const sdk::storage::Put& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;
    void get(const sdk::storage::Get& op, std::function<void(sdk::Result<sdk::storage::GetReply>)> done) override;
    void erase(const sdk::storage::Erase& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;
    void scan(const sdk::storage::Scan& op, std::function<void(sdk::Result<sdk::storage::ScanReply>)> done) override;
    void batch(const sdk::storage::Batch& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;

    /// Bytes in use (keys + values).
    [[nodiscard]] std::size_t used_bytes() const { return used_; }

private:
    using Table = std::map<std::string, sdk::storage::Bytes, std::less<>>;
    // Size change if (ns, key) were set to a value of `value_size` bytes (or erased if npos).
    std::ptrdiff_t delta(const std::string& ns, const std::string& key, std::size_t value_size) const;
    void apply(const sdk::storage::BatchOp& op);
    std::map<std::string, Table, std::less<>> data_;
    std::size_t max_bytes_;
    std::size_t used_ = 0;
};

}  // namespace veil::memory
