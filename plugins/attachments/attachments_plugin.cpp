// plugins/attachments: descriptor, config table, bus wiring and the `attachment` command only;
// the transfers are transfer.cpp, the format sealed_blob.cpp.
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "transfer.hpp"
#include "veil/sdk/messenger.hpp"
#include "veil/sdk/plugin.hpp"
#include "veil/wire/codec.hpp"

namespace veil::attachments {

namespace {

namespace sa = sdk::attachment;
using json = nlohmann::json;

constexpr const char* kUsage =
    "attachment upload PATH [--progress] [--keep-metadata] | attachment download REF_FILE DIR [--progress] | "
    "attachment save MESSAGE_ID PATH";
// A command waits for a whole transfer: generous for 10 MB through onion paths.
constexpr std::uint32_t kCommandTimeoutMs = 300'000;

template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(const std::string& hex) {
    auto raw = wire::from_hex(hex);
    if (raw.size() != N) throw wire::DecodeError("wrong length");
    std::array<std::uint8_t, N> out{};
    std::copy(raw.begin(), raw.end(), out.begin());
    sodium_memzero(raw.data(), raw.size());
    return out;
}

// The ref as JSON (it holds the file key: whoever has it can read the file).
std::string ref_json(const sa::AttachmentRef& r) {
    json j{{"id", wire::to_hex(r.id)},         {"key", wire::to_hex(r.key)},     {"digest", wire::to_hex(r.digest)},
           {"size", r.size_bytes},             {"mime_type", r.mime_type},        {"file_name", r.file_name}};
    return j.dump();
}

sa::AttachmentRef ref_from_json(const std::string& text) {
    auto j = json::parse(text);
    sa::AttachmentRef r;
    r.id = array_from_hex<32>(j.at("id").get<std::string>());
    r.key = array_from_hex<32>(j.at("key").get<std::string>());
    r.digest = array_from_hex<32>(j.at("digest").get<std::string>());
    r.size_bytes = j.at("size").get<std::uint64_t>();
    r.mime_type = j.value("mime_type", "");
    r.file_name = j.value("file_name", "");
    return r;
}

class AttachmentsPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& c = ctx.config();
        TransferSettings s;
        auto max = c.get_int("max_file_bytes");
        auto timeout = c.get_int("chunk_timeout_ms");
        auto attempts = c.get_int("attempts");
        if (max <= 0 || timeout <= 0 || attempts <= 0)
            throw std::runtime_error("attachments: max_file_bytes, chunk_timeout_ms and attempts must be positive");
        s.max_file_bytes = static_cast<std::uint64_t>(max);
        s.chunk_timeout_ms = static_cast<std::uint32_t>(timeout);
        s.attempts = static_cast<std::size_t>(attempts);
        s.processors = c.get_strings("processors");
        transfers_ = std::make_unique<Transfers>(ctx, s);
        ctx.serve<sa::UploadAttachment>(
            [this](const sa::UploadAttachment& q, sdk::Responder<sa::AttachmentRef> r) {
                if (!transfers_) return r.fail(sdk::ErrorCode::closed, "the attachments plugin is stopping");
                transfers_->upload(q, std::move(r));
            });
        ctx.serve<sa::DownloadAttachment>([this](const sa::DownloadAttachment& q, sdk::Responder<sa::DownloadedAttachment> r) {
            if (!transfers_) return r.fail(sdk::ErrorCode::closed, "the attachments plugin is stopping");
            transfers_->download(q, std::move(r));
        });
        ctx.serve<sa::OpenAttachment>([this](const sa::OpenAttachment& q, sdk::Responder<sa::OpenedAttachment> r) {
            if (!transfers_) return r.fail(sdk::ErrorCode::closed, "the attachments plugin is stopping");
            transfers_->open_kept(q, std::move(r));
        });
        ctx.add_command({"attachment", "upload or download one attachment (scripts and tests)", kUsage,
                         [this, &ctx](sdk::CommandCall call) { run(ctx, std::move(call)); }});
        // `--progress`: the command's TransferProgress events, one line each on stderr.
        ctx.on<sa::TransferProgress>([this](const sa::TransferProgress& p) {
            if (progress_call_ && p.transfer_id == kCliTransfer)
                progress_call_->err("progress " + std::to_string(p.done_bytes) + "/" + std::to_string(p.total_bytes) + "\n");
        });
    }
    void stop() override {
        progress_call_.reset();
        transfers_.reset();
    }

private:
    void run(sdk::Context& ctx, sdk::CommandCall call) {
        auto a = call.args();
        // The storage plugin's option (it reads it from the same command line).
        for (auto it = a.begin(); it != a.end();) {
            if (*it == "--passphrase-file" && it + 1 != a.end()) it = a.erase(it, it + 2);
            else if (it->starts_with("--passphrase-file=")) it = a.erase(it);
            else ++it;
        }
        if (auto it = std::find(a.begin(), a.end(), "--progress"); it != a.end()) {
            a.erase(it);
            progress_call_ = call;
        }
        bool keep_metadata = false;
        if (auto it = std::find(a.begin(), a.end(), "--keep-metadata"); it != a.end() && a.size() > 0 && a[0] == "upload") {
            a.erase(it);
            keep_metadata = true;
        }
        if (a.size() == 2 && a[0] == "upload") {
            // A tool for scripts and tests: the ref keeps the file's own name.
            sa::UploadAttachment q{a[1], "", kCliTransfer, keep_metadata, a[1]};
            bool asked = ctx.bus().request<sa::UploadAttachment>(std::move(q), kCommandTimeoutMs, [call](sdk::Result<sa::AttachmentRef> r) {
                if (!r) return call.fail("veil attachment upload: " + r.error().message, sdk::exit_code::failure);
                if (!r.value().notice.empty()) call.err("note: " + r.value().notice + "\n");
                call.out(ref_json(r.value()) + "\n");
                call.finish(sdk::exit_code::ok);
            });
            if (!asked) call.fail("veil attachment: the bus is closed", sdk::exit_code::failure);
            return;
        }
        if (a.size() == 3 && a[0] == "download") {
            sa::DownloadAttachment q;
            try {
                std::ifstream in(a[1]);
                std::stringstream text;
                text << in.rdbuf();
                q.ref = ref_from_json(text.str());
            } catch (const std::exception&) {
                return call.fail("veil attachment download: " + a[1] + " does not hold an attachment reference (JSON)");
            }
            q.directory = a[2];
            q.transfer_id = kCliTransfer;
            bool asked = ctx.bus().request<sa::DownloadAttachment>(
                std::move(q), kCommandTimeoutMs, [call](sdk::Result<sa::DownloadedAttachment> r) {
                    if (!r) {
                        return call.fail("veil attachment download: " + r.error().message,
                                         r.error().code == sdk::ErrorCode::not_found ? 3 : sdk::exit_code::failure);
                    }
                    call.out(r.value().path + "\n");
                    call.finish(sdk::exit_code::ok);
                });
            if (!asked) call.fail("veil attachment: the bus is closed", sdk::exit_code::failure);
            return;
        }
        if (a.size() == 3 && a[0] == "save") {
            // A received file is the messenger's: it holds the message, its key and the kept copy.
            namespace sm = sdk::messenger;
            bool asked = ctx.bus().request<sm::SaveAttachment>(
                sm::SaveAttachment{a[1], a[2]}, kCommandTimeoutMs, [call](sdk::Result<sm::SavedAttachment> r) {
                    if (!r) {
                        if (r.error().code == sdk::ErrorCode::no_handler)
                            return call.fail("veil attachment save: this HOME has no messenger (run veil init)",
                                             sdk::exit_code::failure);
                        return call.fail("veil attachment save: " + r.error().message, sdk::exit_code::failure);
                    }
                    call.out(r.value().path + "\n");
                    call.finish(sdk::exit_code::ok);
                });
            if (!asked) call.fail("veil attachment: the bus is closed", sdk::exit_code::failure);
            return;
        }
        call.fail(std::string("usage: veil ") + kUsage);
    }

    static constexpr const char* kCliTransfer = "cli";
    std::unique_ptr<Transfers> transfers_;
    std::optional<sdk::CommandCall> progress_call_;
};

constexpr sdk::ConfigKeySpec kKeys[] = {
    {"max_file_bytes", sdk::ConfigType::integer, "10485760", "largest file sent or accepted (10 MiB)"},
    {"processors", sdk::ConfigType::string_list, R"(["exif-strip"])",
     "processor plugins every outgoing file passes through, in order; [] sends files unprocessed"},
    {"chunk_timeout_ms", sdk::ConfigType::integer, "30000", "deadline of one chunk request"},
    {"attempts", sdk::ConfigType::integer, "6", "tries per transfer, the swarm's members in turn"},
};
constexpr std::string_view kProvides[] = {"attachments"};
constexpr std::string_view kRequires[] = {"transport", "network"};
constexpr std::string_view kCommands[] = {"attachment"};

constexpr sdk::PluginInfo kInfo{
    .name = "attachments",
    .version = "0.1.0",
    .kind = sdk::PluginKind::role,
    .description = "attachments: metadata stripped, padded, encrypted, uploaded to and downloaded from the swarms",
    .provides = kProvides,
    .requires_ = kRequires,
    .config = kKeys,
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::attachments

VEIL_PLUGIN(attachments, veil::attachments::kInfo, veil::attachments::AttachmentsPlugin)
