#include "veil/sdk/log.hpp"

#include <cctype>
#include <mutex>
#include <set>

#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace veil::sdk::log {

namespace {

// A Veil ID (66 hex digits) or a key (64) inside a message: 64 hex digits or more in a row.
constexpr std::size_t kRedactedRun = 64;

// Replaces every run of kRedactedRun or more hex digits in `text` by "[redacted]"; false when
// there was none.
bool redact(std::string& text) {
    std::string out;
    bool changed = false;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
        if (j - i >= kRedactedRun) {
            out += "[redacted]";
            changed = true;
        } else {
            out.append(text, i, j - i);
        }
        if (j < text.size()) out += text[j];
        i = j + 1;
    }
    if (changed) text = std::move(out);
    return changed;
}

// What reaches stderr at info and above holds no Veil ID or key (DESIGN.md §1), whatever a
// message or an error it quotes carries; debug and trace, asked for on purpose, keep them.
class RedactingSink final : public spdlog::sinks::sink {
public:
    explicit RedactingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}
    void log(const spdlog::details::log_msg& msg) override {
        if (msg.level < spdlog::level::info) return inner_->log(msg);
        std::string text(msg.payload.data(), msg.payload.size());
        if (!redact(text)) return inner_->log(msg);
        spdlog::details::log_msg copy(msg);
        copy.payload = text;
        inner_->log(copy);
    }
    void flush() override { inner_->flush(); }
    void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
    void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

private:
    spdlog::sink_ptr inner_;
};

struct Registry {
    std::mutex mu;
    spdlog::sink_ptr sink = std::make_shared<RedactingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    spdlog::level::level_enum default_level = spdlog::level::info;
    std::set<std::string, std::less<>> own_level;  // loggers with a level of their own
};
Registry& registry() {
    static Registry r;  // created on first use (no static-order issue across libraries)
    return r;
}
}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view name) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::string n(name);
    if (auto existing = spdlog::get(n)) return existing;
    auto logger = std::make_shared<spdlog::logger>(n, r.sink);
    logger->set_level(r.default_level);
    logger->set_pattern("%H:%M:%S.%e %^%l%$ [%n] %v");
    spdlog::register_logger(logger);
    return logger;
}

bool parse_level(std::string_view text, spdlog::level::level_enum& out) {
    static constexpr std::pair<std::string_view, spdlog::level::level_enum> names[] = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
        {"off", spdlog::level::off}};
    for (const auto& [n, l] : names) {
        if (n == text) {
            out = l;
            return true;
        }
    }
    return false;
}

void set_default_level(spdlog::level::level_enum level) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.default_level = level;
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        if (!r.own_level.count(l->name())) l->set_level(level);
    });
}

void set_level(std::string_view name, spdlog::level::level_enum level) {
    auto logger = get(name);
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.own_level.emplace(name);
    logger->set_level(level);
}

}  // namespace veil::sdk::log
