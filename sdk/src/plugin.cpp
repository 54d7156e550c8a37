#include "veil/sdk/plugin.hpp"

#include <string>
#include <utility>

namespace veil::sdk {

namespace {
thread_local std::string create_failure;
}  // namespace

void note_create_failure(const char* message) noexcept {
    try {
        create_failure = message ? message : "";
    } catch (...) {
        // Out of memory while reporting: the kernel still reports the failure, without words.
    }
}

std::string take_create_failure() { return std::exchange(create_failure, {}); }

// Out of line so the vtable and type info of Plugin live once, in libveil-sdk.
Plugin::~Plugin() = default;

std::string_view to_string(PluginKind kind) noexcept {
    switch (kind) {
        case PluginKind::frontend: return "frontend";
        case PluginKind::role: return "role";
        case PluginKind::processor: return "processor";
        case PluginKind::transport: return "transport";
        case PluginKind::storage: return "storage";
        case PluginKind::other: return "other";
    }
    return "invalid";
}

}  // namespace veil::sdk
