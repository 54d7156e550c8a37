#include "sql_backend.hpp"

#include <sodium.h>

#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "error.hpp"
#include "veil/sql/statement.hpp"

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
        case Failure::disk_full:
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

// Writes that will commit together. The loop thread appends until the store thread takes them.
struct SqlBackend::WriteGroup {
    struct Op {
        std::function<void(Database&)> apply;
        std::function<void(Result<Done>)> done;
    };
    std::mutex mutex;
    std::vector<Op> ops;
    bool taken = false;
};

SqlBackend::SqlBackend(uv_loop_t* loop) : thread_(loop) {}

SqlBackend::~SqlBackend() { close(); }

void SqlBackend::open(const std::filesystem::path& db_path, const crypto::SecretBytes* passphrase,
                      const VaultOptions& options) {
    thread_.call([&] { vault_ = Vault::open(db_path, passphrase, options); });
}

template <class T>
void SqlBackend::run(std::function<T(Database&)> fn, std::function<void(Result<T>)> done) {
    open_group_.reset();  // writes after this read must not commit before it runs
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

void SqlBackend::write(std::function<void(Database&)> apply, std::function<void(Result<Done>)> done) {
    if (open_group_) {
        std::lock_guard lock(open_group_->mutex);
        if (!open_group_->taken) {
            open_group_->ops.push_back({std::move(apply), std::move(done)});
            return;
        }
    }
    auto group = std::make_shared<WriteGroup>();
    group->ops.push_back({std::move(apply), done});
    open_group_ = group;
    if (!thread_.post([this, group] { return commit_group(*group); })) {
        open_group_.reset();
        done(kClosed);
    }
}

std::function<void()> SqlBackend::commit_group(WriteGroup& group) {
    std::vector<WriteGroup::Op> ops;
    {
        std::lock_guard lock(group.mutex);
        ops.swap(group.ops);
        group.taken = true;
    }
    std::vector<std::optional<sdk::Error>> errors(ops.size());
    auto fail_all = [&](const sdk::Error& e) {
        for (auto& slot : errors) {
            if (!slot) slot = e;
        }
    };
    if (!vault_) {
        fail_all(kClosed);
    } else if (ops.size() == 1) {
        // Alone, a write is its own transaction: no savepoint needed.
        try {
            ops[0].apply(vault_->db());
        } catch (...) {
            errors[0] = current_error();
        }
    } else {
        sqlite3* h = vault_->db().handle();
        try {
            sql::Transaction tx(h);
            for (std::size_t i = 0; i < ops.size(); ++i) {
                try {
                    sql::Savepoint sp(h);
                    ops[i].apply(vault_->db());
                    sp.release();
                } catch (...) {
                    errors[i] = current_error();
                    // Disk full or I/O errors may roll the whole transaction back: all fail.
                    if (sql::autocommit(h)) throw;
                }
            }
            tx.commit();
        } catch (...) {
            fail_all(current_error());
        }
    }
    return [ops = std::move(ops), errors = std::move(errors)] {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            if (errors[i]) {
                ops[i].done(*errors[i]);
            } else {
                ops[i].done(Done{});
            }
        }
    };
}

void SqlBackend::put(const Put& op, std::function<void(Result<Done>)> done) {
    // The copy the store thread writes may be key material: wiped once written.
    write([copy = op](Database& db) mutable {
        db.put(copy.ns, copy.key, copy.value);
        sodium_memzero(copy.value.data(), copy.value.size());
    }, std::move(done));
}

void SqlBackend::get(const Get& op, std::function<void(Result<GetReply>)> done) {
    run<GetReply>([op](Database& db) { return GetReply{db.get(op.ns, op.key)}; }, std::move(done));
}

void SqlBackend::erase(const Erase& op, std::function<void(Result<Done>)> done) {
    write([op](Database& db) { db.erase(op.ns, op.key); }, std::move(done));
}

void SqlBackend::scan(const Scan& op, std::function<void(Result<ScanReply>)> done) {
    run<ScanReply>([op](Database& db) { return db.scan(op.ns, op.prefix, op.limit); }, std::move(done));
}

void SqlBackend::batch(const Batch& op, std::function<void(Result<Done>)> done) {
    write([copy = op](Database& db) mutable {
        db.apply(copy);
        for (auto& o : copy.ops) sodium_memzero(o.value.data(), o.value.size());
    }, std::move(done));
}

void SqlBackend::with_vault(std::function<void(Vault&)> fn, std::function<void(sdk::Status)> done) {
    open_group_.reset();
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
    open_group_.reset();
    (void)thread_.post([this]() -> std::function<void()> {
        vault_.reset();
        return {};
    });
    thread_.close();
}

}  // namespace veil::sqlcipher
