#include "account_store.hpp"

#include <sodium.h>

namespace veil::messenger {
namespace {

namespace st = sdk::storage;
constexpr std::uint32_t kStorageTimeoutMs = 30'000;
constexpr std::size_t kScanAll = 1'000'000;

void wipe(std::vector<st::Entry>& entries) {
    for (auto& e : entries) sodium_memzero(e.value.data(), e.value.size());
}

}  // namespace

st::BatchOp erase_op(std::string key) { return {st::BatchOp::Kind::erase, std::string(kStorageNs), std::move(key), {}}; }

void AccountStore::load_account(std::function<void(AccountPtr)> done, Fail fail) {
    st::Scan q{std::string(kStorageNs), std::string(kStatePrefix), 100};
    bool queued = ctx_.bus().request<st::Scan>(std::move(q), kStorageTimeoutMs, [this, done, fail](sdk::Result<st::ScanReply> r) {
        if (!r && r.error().code == sdk::ErrorCode::no_handler) {
            return fail({sdk::ErrorCode::no_handler, "there is no Veil client in " + ctx_.home_dir().string() +
                                                         " (no veil.toml there): run veil init --home HOME --network FILE"});
        }
        if (!r) return fail(database_error(r.error(), false));
        if (r.value().entries.empty()) return done(nullptr);
        // The entries hold the identity seed, device keys, pre-keys and ratchets: once the
        // account holds them (in guarded memory), this copy is wiped.
        auto& entries = r.value().entries;
        AccountPtr account;
        try {
            account = std::make_shared<Account>(Account::load(entries));
        } catch (const std::exception& e) {
            wipe(entries);
            return fail({sdk::ErrorCode::io, e.what()});
        }
        wipe(entries);
        if (auto n = account->skipped_peer_lists(); n > 0) {
            ctx_.log().warn("{} saved peer device list(s) were damaged and skipped; they are read again from the network", n);
        }
        done(std::move(account));
    });
    if (!queued) fail(database_closed(false));
}

void AccountStore::save_account(const Account& account, std::vector<st::BatchOp> extra, std::function<void()> done,
                                Fail fail) {
    auto ops = account.save_ops();
    std::vector<std::uint64_t> carried;  // the owed ops this batch stores: no longer owed once it is
    for (const auto& [n, owed] : owed_) {
        ops.insert(ops.end(), owed.begin(), owed.end());
        carried.push_back(n);
    }
    for (const auto& op : extra) ops.push_back(op);
    auto number = ++saves_;
    write(std::move(ops), [this, carried = std::move(carried), done] {
        for (auto n : carried) owed_.erase(n);
        done();
    }, [this, number, extra = std::move(extra), fail](const sdk::Error& e) mutable {
        if (!extra.empty()) owed_.emplace(number, std::move(extra));
        fail(e);
    });
}

void AccountStore::write(std::vector<st::BatchOp> ops, std::function<void()> done, Fail fail) {
    if (ops.empty()) return done();
    st::Batch b{std::move(ops)};
    bool queued = ctx_.bus().request<st::Batch>(std::move(b), kStorageTimeoutMs, [done, fail](sdk::Result<st::Done> r) {
        if (!r) return fail(database_error(r.error(), true));
        done();
    });
    if (!queued) fail(database_closed(true));
}

void AccountStore::scan(std::string_view prefix, std::size_t limit, std::function<void(std::vector<st::Entry>)> done,
                        Fail fail) {
    st::Scan q{std::string(kStorageNs), std::string(prefix), limit};
    bool queued = ctx_.bus().request<st::Scan>(std::move(q), kStorageTimeoutMs, [done, fail](sdk::Result<st::ScanReply> r) {
        if (!r) return fail(database_error(r.error(), false));
        done(std::move(r.value().entries));
    });
    if (!queued) fail(database_closed(false));
}

void AccountStore::load_contacts(std::function<void(std::map<crypto::VeilId, ContactRecord>)> done, Fail fail) {
    scan(kContactPrefix, kScanAll, [this, done](std::vector<st::Entry> entries) {
        std::map<crypto::VeilId, ContactRecord> out;
        for (const auto& e : entries) {
            try {
                auto c = decode_contact(e.value);
                out[c.id] = c;
            } catch (const wire::DecodeError&) {
                ctx_.log().warn("a damaged contact entry was skipped");
            }
        }
        done(std::move(out));
    }, std::move(fail));
}

void AccountStore::load_messages(std::function<void(std::map<std::string, MessageRecord>)> done, Fail fail) {
    scan(kMessagePrefix, kScanAll, [this, done](std::vector<st::Entry> entries) {
        std::map<std::string, MessageRecord> out;
        for (const auto& e : entries) {
            try {
                out[e.key] = decode_record(e.value);
            } catch (const wire::DecodeError&) {
                ctx_.log().warn("a damaged message entry was skipped");
            }
        }
        done(std::move(out));
    }, std::move(fail));
}

}  // namespace veil::messenger
