#include "sql_backend.hpp"

#include <exception>

#include "error.hpp"

namespace veil::sqlcipher {

using namespace sdk::storage;
using sdk::ErrorCode;
using sdk::Result;

sdk::ErrorCode to_error_code(Failure failure) {
    switch (failure) {
        case Failure::passphrase_required:
        case Failure::wrong_passphrase:
        case Failure::key_mismatch:
        case Failure::busy:
            return ErrorCode::refused;
        case Failure::missing_file:
            return ErrorCode::not_found;
        case Failure::bad_input:
        case Failure::damaged_key_file:
        case Failure::schema_too_new:
            return ErrorCode::bad_input;
        case Failure::too_large:
            return ErrorCode::too_large;
        case Failure::io:
            return ErrorCode::io;
    }
    return ErrorCode::internal;
}

sdk::Error to_sdk_error(const Error& e) { return {to_error_code(e.failure()), e.what()}; }

namespace {
// The error of whatever a job threw.
sdk::Error current_error() {
    try {
        throw;
    } catch (const Error& e) {
        return to_sdk_error(e);
    } catch (const std::exception& e) {
        return {ErrorCode::internal, e.what()};
    } catch (...) {
        return {ErrorCode::internal, "unknown exception"};
    }
}

const sdk::Error kClosed{ErrorCode::closed, "storage is closed"};
}  // namespace

SqlBackend::SqlBackend(uv_loop_t* loop) : thread_(loop) {}

SqlBackend::~SqlBackend() { close(); }

void SqlBackend::open(const std::filesystem::path& db_path, const crypto::SecretBytes* passphrase,
                      const VaultOptions& options) {
    thread_.call([&] { vault_ = Vault::open(db_path, passphrase, options); });
}

template <class T>
void SqlBackend::run(std::function<T(Database&)> fn, std::function<void(Result<T>)> done) {
    bool queued = thread_.post([this, fn = std::move(fn), done]() -> std::function<void()> {
        auto result = std::make_shared<Result<T>>(kClosed);
        try {
            if (vault_) *result = fn(vault_->db());
        } catch (...) {
            *result = current_error();
        }
        return [done, result] { done(std::move(*result)); };
    });
    if (!queued) done(kClosed);
}

void SqlBackend::put(const Put& op, std::function<void(Result<Done>)> done) {
    run<Done>([op](Database& db) { db.put(op.ns, op.key, op.value); return Done{}; }, std::move(done));
}

void SqlBackend::get(const Get& op, std::function<void(Result<GetReply>)> done) {
    run<GetReply>([op](Database& db) { return GetReply{db.get(op.ns, op.key)}; }, std::move(done));
}

void SqlBackend::erase(const Erase& op, std::function<void(Result<Done>)> done) {
    run<Done>([op](Database& db) { db.erase(op.ns, op.key); return Done{}; }, std::move(done));
}

void SqlBackend::scan(const Scan& op, std::function<void(Result<ScanReply>)> done) {
    run<ScanReply>([op](Database& db) { return db.scan(op.ns, op.prefix, op.limit); }, std::move(done));
}

void SqlBackend::batch(const Batch& op, std::function<void(Result<Done>)> done) {
    run<Done>([op](Database& db) { db.apply(op); return Done{}; }, std::move(done));
}

void SqlBackend::with_vault(std::function<void(Vault&)> fn, std::function<void(sdk::Status)> done) {
    bool queued = thread_.post([this, fn = std::move(fn), done]() -> std::function<void()> {
        auto result = std::make_shared<sdk::Status>(kClosed);
        try {
            if (vault_) {
                fn(*vault_);
                *result = sdk::ok_status();
            }
        } catch (...) {
            *result = current_error();
        }
        return [done, result] { done(std::move(*result)); };
    });
    if (!queued) done(kClosed);
}

void SqlBackend::close() {
    (void)thread_.post([this]() -> std::function<void()> {
        vault_.reset();
        return {};
    });
    thread_.close();
}

}  // namespace veil::sqlcipher
