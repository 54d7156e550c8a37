#pragma once
/// The messenger's database, reached through the storage contract on the bus (namespace
/// kStorageNs): the account state, contacts and message records, the send queue. One batch is
/// one atomic write. Errors are typed (errors.hpp). Loop-thread only; holds a reference to the
/// plugin's context.

#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "account.hpp"
#include "errors.hpp"
#include "record.hpp"
#include "veil/sdk/context.hpp"

namespace veil::messenger {

using AccountPtr = std::shared_ptr<Account>;

class AccountStore final {
public:
    explicit AccountStore(sdk::Context& ctx) : ctx_(ctx) {}

    /// The stored account, or nullptr when this HOME has none. No storage plugin (no veil.toml
    /// in HOME) fails with no_handler and a sentence saying to run veil init.
    void load_account(std::function<void(AccountPtr)> done, Fail fail);
    /// Stores the account state and `extra` ops in one atomic batch. When it fails, `extra` is
    /// owed: every later save_account carries it too until one is stored (what a failed receive
    /// round saved goes in with the next state written, never after a state that depends on it).
    void save_account(const Account& account, std::vector<sdk::storage::BatchOp> extra, std::function<void()> done,
                      Fail fail);
    /// Writes `ops` in one atomic batch (nothing to write: `done` at once).
    void write(std::vector<sdk::storage::BatchOp> ops, std::function<void()> done, Fail fail);
    /// Every entry whose key starts with `prefix`, in key order (at most `limit`).
    void scan(std::string_view prefix, std::size_t limit, std::function<void(std::vector<sdk::storage::Entry>)> done,
              Fail fail);
    /// Every contact (a damaged entry is skipped with a warning).
    void load_contacts(std::function<void(std::map<crypto::VeilId, ContactRecord>)> done, Fail fail);
    /// Every message record by key (a damaged entry is skipped with a warning).
    void load_messages(std::function<void(std::map<std::string, MessageRecord>)> done, Fail fail);

    /// Number of failed saves whose extra ops no save has stored yet.
    [[nodiscard]] std::size_t owed_count() const { return owed_.size(); }

private:
    sdk::Context& ctx_;
    std::map<std::uint64_t, std::vector<sdk::storage::BatchOp>> owed_;  // by save number
    std::uint64_t saves_ = 0;
};

/// A storage op that erases `key` in kStorageNs.
[[nodiscard]] sdk::storage::BatchOp erase_op(std::string key);

}  // namespace veil::messenger
