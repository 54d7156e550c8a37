// Attachments of received messages: downloaded through the attachment contract into
// HOME/attachments; a request's files wait until it is accepted.
#include <filesystem>

#include "client.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;
constexpr std::uint32_t kTransferTimeoutMs = 180'000;

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
    std::error_code ec;
    std::filesystem::create_directories(d.directory, ec);
    auto key = record_key(r);
    auto finished = [this, key, done](std::string path, std::string error) {
        auto* rec = model_.find(key);
        if (!rec) {  // it disappeared while downloading
            if (!path.empty()) remove_saved_file(path);
            return done();
        }
        rec->saved_path = std::move(path);
        rec->error = std::move(error);
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
            if (res) return finished(res.value().path, "");
            if (res.error().code == sdk::ErrorCode::no_handler) return finished("", std::string(kNoAttachments));
            finished("", "the attachment could not be downloaded: " + res.error().message);
        });
    if (!asked) finished("", "the bus is closed");
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
