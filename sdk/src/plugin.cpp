#include "veil/sdk/plugin.hpp"

namespace veil::sdk {

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
