#pragma once
// sdk::storage::Backend over an encrypted Vault: each operation is queued to the store thread
// (in order), runs its SQL there, and completes on the loop thread. Writes queued back to back
// share one transaction (group commit: one fsync for all), each in its own savepoint so one
// failing write fails alone; each completes only after the commit that holds it.
#include <filesystem>
#include <functional>
#include <memory>

#include "error.hpp"
#include "store_thread.hpp"
#include "vault.hpp"
#include "veil/sdk/storage.hpp"

namespace veil::sqlcipher {

/// The storage contract's code for an Error (what a Backend callback receives).
sdk::Error to_sdk_error(const Error& e);

class SqlBackend final : public sdk::storage::Backend {
public:
    /// Starts the store thread. Loop thread.
    explicit SqlBackend(uv_loop_t* loop);
    /// close() if still open.
    ~SqlBackend() override;

    /// Opens the vault on the store thread and waits for it (Plugin::start, before the loop
    /// serves anything). Throws Error as Vault::open does.
    void open(const std::filesystem::path& db_path, const crypto::SecretBytes* passphrase, const VaultOptions& options);

    void put(const sdk::storage::Put& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;
    void get(const sdk::storage::Get& op, std::function<void(sdk::Result<sdk::storage::GetReply>)> done) override;
    void erase(const sdk::storage::Erase& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;
    void scan(const sdk::storage::Scan& op, std::function<void(sdk::Result<sdk::storage::ScanReply>)> done) override;
    void batch(const sdk::storage::Batch& op, std::function<void(sdk::Result<sdk::storage::Done>)> done) override;

    /// Runs `fn` with the vault on the store thread, after every operation queued before it;
    /// `done` gets the error it threw, if any, on the loop thread.
    void with_vault(std::function<void(Vault&)> fn, std::function<void(sdk::Status)> done);

    /// Finishes queued operations, closes the database, stops the thread. Loop thread.
    void close();

private:
    struct WriteGroup;
    template <class T>
    void run(std::function<T(Database&)> fn, std::function<void(sdk::Result<T>)> done);
    // Adds a write to the open group, or starts a group (one store-thread job) for it.
    void write(std::function<void(Database&)> apply, std::function<void(sdk::Result<sdk::storage::Done>)> done);
    // Runs a group in one transaction (store thread); returns its completions.
    std::function<void()> commit_group(WriteGroup& group);
    std::shared_ptr<WriteGroup> open_group_;  // loop thread: the group later writes may join
    std::unique_ptr<Vault> vault_;  // touched only on the store thread
    StoreThread thread_;
};

}  // namespace veil::sqlcipher
