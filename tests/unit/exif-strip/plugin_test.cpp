// The exif-strip plugin on a real bus and libuv loop: its descriptor, config table, and the
// "veil.attachment.process" request answered from the worker pool, including a refusal.

#include <catch2/catch.hpp>

#include <uv.h>

#include <filesystem>
#include <optional>

#include "test_support.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/sdk/plugin.hpp"

extern "C" const veil::sdk::PluginDescriptor* veil_static_plugin_exif_strip();

using namespace veil;
using namespace veil::exif_strip;
using namespace veil::sdk::attachment;
using namespace veil::exif_strip::test;

namespace {

// Runs the plugin on a fresh loop, sends one request per input, returns the answers.
std::vector<sdk::Result<ProcessedAttachment>> run_plugin(sdk::Config config, std::vector<ProcessAttachment> requests,
                                                         std::string* start_error = nullptr) {
    std::vector<sdk::Result<ProcessedAttachment>> answers;
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        sdk::Bus bus(&loop);
        sdk::CommandRegistry commands;
        TempDir home("plugin-home");
        sdk::Context::Parts parts;
        parts.loop = &loop;
        parts.bus = &bus;
        parts.commands = &commands;
        parts.plugin_name = "exif-strip";
        parts.config = std::move(config);
        parts.home_dir = home / "";
        parts.request_stop = [](int) {};
        auto ctx = std::make_unique<sdk::Context>(std::move(parts));
        const sdk::PluginDescriptor* d = veil_static_plugin_exif_strip();
        auto made = sdk::create_plugin(*d);
        REQUIRE(made.ok());
        sdk::Plugin* plugin = made.value();
        bool started = true;
        try {
            plugin->start(*ctx);
        } catch (const std::exception& e) {
            started = false;
            if (start_error != nullptr) *start_error = e.what();
        }
        if (started) {
            std::size_t pending = requests.size();
            for (auto& r : requests) {
                const bool queued = bus.request(std::move(r), 20000, [&](sdk::Result<ProcessedAttachment> a) {
                    answers.push_back(std::move(a));
                    --pending;
                });
                REQUIRE(queued);
            }
            // A ref'd timer keeps the loop polling (the bus's own handle does not) until done.
            uv_timer_t poll;
            uv_timer_init(&loop, &poll);
            poll.data = &pending;
            uv_timer_start(&poll, [](uv_timer_t* t) {
                if (*static_cast<std::size_t*>(t->data) == 0) uv_stop(t->loop);
            }, 1, 1);
            uv_run(&loop, UV_RUN_DEFAULT);
            uv_close(reinterpret_cast<uv_handle_t*>(&poll), nullptr);
            CHECK(pending == 0);
            plugin->stop();
        }
        ctx.reset();
        d->destroy(plugin);
        bus.close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    return answers;
}

sdk::Config default_config() {
    const auto* info = veil_static_plugin_exif_strip()->info;
    return sdk::Config::defaults("exif-strip", info->config);
}

}  // namespace

TEST_CASE("attachments - plugin descriptor names itself and its config keys", "[attachments]") {
    const sdk::PluginDescriptor* d = veil_static_plugin_exif_strip();
    CHECK(d->abi_version == sdk::kAbiVersion);
    CHECK(std::string(d->build_key) == VEIL_SDK_BUILD_KEY);
    CHECK(d->info->name == "exif-strip");
    CHECK(d->info->kind == sdk::PluginKind::processor);
    const auto config = default_config();
    CHECK(config.get_strings("formats") == std::vector<std::string>{"jpeg", "png", "webp", "tiff", "gif", "heif", "mp4"});
    CHECK(config.get_string("orientation") == "keep");
    CHECK(config.get_strings("chain") == std::vector<std::string>{"strip-metadata"});
    CHECK(config.get_string("other_images").empty());
}

TEST_CASE("attachments - plugin strips a photo over the bus and refuses a broken one", "[attachments]") {
    const Bytes photo = read_file(corpus_dir() / "jpeg/progressive-full.jpg");
    Bytes broken = photo;
    broken.resize(broken.size() / 3);
    const auto answers = run_plugin(default_config(), {ProcessAttachment{photo, "image/jpeg"},
                                                      ProcessAttachment{broken, "image/jpeg"},
                                                      ProcessAttachment{Bytes{'h', 'i'}, "text/plain"}});
    REQUIRE(answers.size() == 3);
    // Answers arrive in completion order; find each by its content.
    int stripped = 0, refused = 0, passed = 0;
    for (const auto& a : answers) {
        if (!a.ok()) {
            CHECK(a.error().code == sdk::ErrorCode::bad_input);
            INFO(a.error().message);
            CHECK(a.error().message.rfind("strip-metadata: JPEG: segment", 0) == 0);
            CHECK(a.error().message.find("refused rather than sent") != std::string::npos);
            ++refused;
        } else if (a.value().mime_type == "image/jpeg") {
            CHECK(a.value().bytes.size() < photo.size());
            REQUIRE(a.value().reports.size() == 1);
            CHECK(a.value().reports[0].modified);
            CHECK(a.value().reports[0].removed.size() == 5);
            ++stripped;
        } else {
            CHECK(a.value().bytes == Bytes{'h', 'i'});
            CHECK_FALSE(a.value().reports.at(0).modified);
            ++passed;
        }
    }
    CHECK((stripped == 1 && refused == 1 && passed == 1));
}

TEST_CASE("attachments - plugin refuses to start on a bad config value", "[attachments]") {
    std::map<std::string, sdk::ConfigValue, std::less<>> values{
        {"chain", std::vector<std::string>{"strip-metadata"}},
        {"formats", std::vector<std::string>{"jpeg", "bmp"}},
        {"orientation", std::string("keep")},
        {"other_images", std::string("")}};
    std::string error;
    const auto answers = run_plugin(sdk::Config("exif-strip", values), {}, &error);
    CHECK(answers.empty());
    CHECK(error.find("exif-strip.formats: unknown format 'bmp'") != std::string::npos);
}

TEST_CASE("attachments - plugin refuses unknown media over the bus unless keep_metadata is set", "[attachments]") {
    const Bytes flac{'f', 'L', 'a', 'C', 0, 0, 0, 0x22, 'A', 'l', 'i', 'c', 'e'};
    const auto refused = run_plugin(default_config(), {ProcessAttachment{flac, "audio/flac", false}});
    REQUIRE(refused.size() == 1);
    REQUIRE_FALSE(refused[0].ok());
    CHECK(refused[0].error().code == sdk::ErrorCode::bad_input);
    CHECK(refused[0].error().message.find("FLAC audio: its metadata cannot be removed") != std::string::npos);
    const auto kept = run_plugin(default_config(), {ProcessAttachment{flac, "audio/flac", true}});
    REQUIRE(kept.size() == 1);
    REQUIRE(kept[0].ok());
    CHECK(kept[0].value().bytes == flac);
    CHECK_FALSE(kept[0].value().reports.at(0).modified);
    CHECK(kept[0].value().reports.at(0).detail.find("kept at the sender's request") != std::string::npos);
}
