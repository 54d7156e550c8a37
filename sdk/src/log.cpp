#include "veil/sdk/log.hpp"

#include <mutex>
#include <set>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace veil::sdk::log {

namespace {
struct Registry {
    std::mutex mu;
    spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
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
