// exif-strip plugin: descriptor, config table and bus wiring only. The logic is
// veil_exif_strip_core (metadata_stripper, processor chain), tested without the kernel.

#include <memory>
#include <string>
#include <string_view>

#include "chain_config.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::exif_strip {
namespace {

using sdk::attachment::AttachmentStepReport;
using sdk::attachment::ProcessAttachment;
using sdk::attachment::ProcessedAttachment;

constexpr std::string_view provides[] = {"attachment-processor"};
constexpr sdk::ConfigKeySpec config_keys[] = {
    {"chain", sdk::ConfigType::string_list, R"(["strip-metadata"])",
     "processors run on every outgoing attachment, in order (known: strip-metadata)"},
    {"formats", sdk::ConfigType::string_list, R"(["jpeg", "png", "webp", "tiff", "gif", "heif", "mp4"])",
     "image formats whose metadata is removed; a media file of another format is refused unless the sender "
     "asks to keep its metadata"},
    {"orientation", sdk::ConfigType::string, "keep",
     "\"keep\": write the EXIF orientation back alone (photos stay upright); \"drop\": remove it too"},
    {"other_images", sdk::ConfigType::string, "",
     "replaced: media whose metadata cannot be removed is always refused unless the sender asks to keep it "
     "(keep_metadata); \"refuse\" is accepted, \"pass\" is an error"},
};
constexpr sdk::PluginInfo info{
    "exif-strip", "0.1.0", sdk::PluginKind::processor,
    "removes EXIF/GPS, XMP, IPTC, comments and thumbnails from outgoing JPEG, PNG, WebP, TIFF and GIF",
    provides, {}, config_keys, {}};

ProcessedAttachment to_reply(ChainResult&& r) {
    ProcessedAttachment reply{std::move(r.attachment.bytes), std::move(r.attachment.mime_type), {}};
    for (auto& step : r.reports) {
        reply.reports.push_back(AttachmentStepReport{std::move(step.processor), step.outcome == Outcome::processed,
                                                     std::move(step.detail), std::move(step.removed)});
    }
    return reply;
}

class ExifStripPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& config = ctx.config();
        chain_ = std::make_shared<const ProcessorChain>(make_chain(ChainSettings{
            config.get_strings("chain"), config.get_strings("formats"), config.get_string("orientation"),
            config.get_string("other_images")}));
        ctx_ = &ctx;
        // Unrouted, and under its own name: the attachments plugin runs its configured chain
        // of processors by name ("exif-strip").
        for (std::string_view route : {std::string_view{}, std::string_view{"exif-strip"}}) {
            ctx.serve<ProcessAttachment>(
                [this](const ProcessAttachment& req, sdk::Responder<ProcessedAttachment> responder) {
                    handle(req, std::move(responder));
                },
                route);
        }
    }

    void stop() override { chain_.reset(); }  // the Context drops the server after stop()

private:
    // Processing runs on the worker pool (a large photo takes milliseconds); the responder
    // may answer from any thread. No file content or name is logged.
    void handle(const ProcessAttachment& req, sdk::Responder<ProcessedAttachment> responder) {
        auto logger = ctx_->logger();
        ctx_->run_blocking(
            [chain = chain_, a = Attachment{req.bytes, req.mime_type, req.keep_metadata}, responder, logger]() mutable {
                const std::size_t in_bytes = a.bytes.size();
                try {
                    ProcessedAttachment reply = to_reply(chain->run(std::move(a)));
                    logger->debug("attachment processed: {} -> {} bytes", in_bytes, reply.bytes.size());
                    responder.reply(std::move(reply));
                } catch (const ProcessError& e) {
                    logger->info("attachment refused by {}", e.processor());
                    responder.fail(sdk::ErrorCode::bad_input, e.what());
                } catch (const std::exception& e) {
                    responder.fail(sdk::ErrorCode::internal, std::string("exif-strip: ") + e.what());
                }
            },
            [logger](std::exception_ptr e) {
                if (e) logger->error("attachment processing failed outside the chain");
            });
    }

    std::shared_ptr<const ProcessorChain> chain_;
    sdk::Context* ctx_ = nullptr;
};

}  // namespace
}  // namespace veil::exif_strip

VEIL_PLUGIN(exif_strip, veil::exif_strip::info, veil::exif_strip::ExifStripPlugin)
