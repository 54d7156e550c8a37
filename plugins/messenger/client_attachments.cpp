// Attachments of received messages: downloaded through the attachment contract and kept as
// the verified, still encrypted blob in HOME/attachments (its key stays in the message record,
// in the encrypted database); opened to plaintext only where the person asks. A request's files
// wait until it is accepted.
#include <filesystem>

#include "client.hpp"
#include "veil/sdk/files.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;
constexpr std::uint32_t kTransferTimeoutMs = 180'000;

// A download that failed for a reason that may pass (the network, a store that is down) is
// tried again: 10 s after the first failure, doubling, at most an hour apart, until the store
// says the file is gone (expired) or it does not verify.
constexpr std::uint64_t kFirstRetryMs = 10'000;
constexpr std::uint64_t kMaxRetryMs = 3'600'000;

std::uint64_t retry_delay_ms(std::uint32_t failures) {
    std::uint64_t d = kFirstRetryMs;
    for (std::uint32_t i = 1; i < failures && d < kMaxRetryMs; ++i) d *= 2;
    return std::min(d, kMaxRetryMs);
}

bool worth_retrying(sdk::ErrorCode code) {
    return code != sdk::ErrorCode::not_found && code != sdk::ErrorCode::bad_input && code != sdk::ErrorCode::no_handler;
}

}  // namespace

void Client::download_pending(const crypto::VeilId& peer, std::function<void()> done) {
    auto waiting = model_.take_waiting_files(peer);
    auto left = std::make_shared<std::size_t>(waiting.size() + 1);
    auto one_done = [left, done] {
        if (--*left == 0) done();
    };
    for (auto& r : waiting) download(std::move(r), one_done);
    one_done();
}

void Client::after_accept(const crypto::VeilId& peer, std::function<void()> done) {
    // The resident client answers at once; a one-shot command waits, or its exit cuts the fetch.
    if (resident_) {
        download_pending(peer, [] {});
        return done();
    }
    download_pending(peer, std::move(done));
}

void Client::download(MessageRecord r, std::function<void()> done) {
    sdk::attachment::DownloadAttachment d;
    d.ref = *r.message.attachment;
    d.directory = (ctx_.home_dir() / "attachments").string();
    d.transfer_id = wire::to_hex(r.message.id);
    d.keep_sealed = true;
    try {
        sdk::make_private_dirs(d.directory);
    } catch (const std::exception&) {
        // The download reports why the file cannot be written there.
    }
    auto key = record_key(r);
    auto finished = [this, key, done](std::string path, std::optional<sdk::Error> error) {
        auto* rec = model_.find(key);
        if (!rec) {  // it disappeared while downloading
            if (!path.empty()) remove_saved_file(path);
            return done();
        }
        rec->saved_path = std::move(path);
        rec->error.clear();
        rec->retry_at_ms = 0;
        if (!error) {
            rec->download_failures = 0;
        } else if (error->code == sdk::ErrorCode::no_handler) {
            rec->error = std::string(kNoAttachments);
        } else if (worth_retrying(error->code)) {
            ++rec->download_failures;
            rec->retry_at_ms = now_ms() + retry_delay_ms(rec->download_failures);
            rec->error = "not downloaded yet (" + error->message + "); it is tried again later";
        } else {
            rec->error = "the attachment could not be downloaded: " + error->message;
        }
        schedule_download_retry();
        auto copy = *rec;
        store_.write({record_op(copy)}, [this, copy, done] {
            ctx_.bus().publish(sm::MessageUpdated{view(copy)});
            done();
        }, [this, done](const sdk::Error& e) {
            ctx_.log().warn("{}", e.message);
            done();
        });
    };
    bool asked = ctx_.bus().request<sdk::attachment::DownloadAttachment>(
        std::move(d), kTransferTimeoutMs, [finished](sdk::Result<sdk::attachment::DownloadedAttachment> res) {
            if (res) return finished(res.value().path, std::nullopt);
            finished("", res.error());
        });
    if (!asked) finished("", sdk::Error{sdk::ErrorCode::closed, "the bus is closed"});
}

void Client::retry_downloads(bool due_only, std::function<void(std::vector<MessageRecord>)> done) {
    auto pending = model_.pending_downloads(due_only ? now_ms() : UINT64_MAX);
    auto left = std::make_shared<std::size_t>(pending.size() + 1);
    auto keys = std::make_shared<std::vector<std::string>>();
    auto one_done = [this, left, keys, done] {
        if (--*left > 0) return;
        std::vector<MessageRecord> saved;
        for (const auto& k : *keys) {
            if (auto* r = model_.find(k); r && !r->saved_path.empty()) saved.push_back(*r);
        }
        done(std::move(saved));
    };
    for (auto& r : pending) {
        keys->push_back(record_key(r));
        // Under way: not due again until this try ends (it sets the next time, or clears it).
        if (auto* m = model_.find(keys->back())) m->retry_at_ms = UINT64_MAX;
        download(std::move(r), one_done);
    }
    one_done();
}

void Client::open_file(const std::string& message_id, std::string directory, std::string path,
                       std::function<void(sdk::attachment::OpenedAttachment, const MessageRecord&)> done, Fail fail) {
    const auto* found = model_.find_by_id(message_id);
    if (!found || !found->message.attachment) {
        return fail({sdk::ErrorCode::not_found, "no received file in message " + message_id});
    }
    if (found->saved_path.empty()) {
        return fail({sdk::ErrorCode::not_found, "the file of message " + message_id + " is not downloaded yet" +
                                                    (found->error.empty() ? "" : " (" + found->error + ")")});
    }
    sdk::attachment::OpenAttachment q{*found->message.attachment, found->saved_path, std::move(directory), std::move(path)};
    auto record = std::make_shared<MessageRecord>(*found);
    bool asked = ctx_.bus().request<sdk::attachment::OpenAttachment>(
        std::move(q), kTransferTimeoutMs, [record, done, fail](sdk::Result<sdk::attachment::OpenedAttachment> res) {
            if (res) return done(std::move(res).value(), *record);
            if (res.error().code == sdk::ErrorCode::no_handler) return fail({sdk::ErrorCode::no_handler, std::string(kNoAttachments)});
            fail({res.error().code, "the file of message " + wire::to_hex(record->message.id) +
                                        " could not be opened: " + res.error().message});
        });
    if (!asked) fail({sdk::ErrorCode::closed, "the bus is closed"});
}

void Client::remove_saved_file(const std::string& path) {
    // Only files this client saved: a disappearing message takes its file with it.
    std::error_code ec;
    auto dir = std::filesystem::weakly_canonical(ctx_.home_dir() / "attachments", ec);
    auto file = std::filesystem::weakly_canonical(path, ec);
    if (ec || file.parent_path() != dir) return;
    std::filesystem::remove(file, ec);
    if (ec) ctx_.log().warn("could not delete an expired message's file: {}", ec.message());
}

}  // namespace veil::messenger
