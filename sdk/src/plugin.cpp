#include "veil/sdk/plugin.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace veil::sdk {

namespace {
std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}
}  // namespace

Status check_descriptor(const PluginDescriptor* d, const std::string& who) {
    if (!d) return Error{ErrorCode::bad_input, who + ": entry point returned no descriptor"};
    // abi_version and build_key are plain C data: safe to read before anything else.
    if (d->abi_version != kAbiVersion) {
        return Error{ErrorCode::refused, who + ": SDK ABI mismatch: the plugin was built against ABI " +
                                             hex32(d->abi_version) + " (SDK " + (d->sdk_version ? d->sdk_version : "?") +
                                             "), this kernel has ABI " + hex32(kAbiVersion) + " (SDK " + kSdkVersion +
                                             "); rebuild the plugin"};
    }
    const char* key = d->build_key ? d->build_key : "";
    if (std::strcmp(key, VEIL_SDK_BUILD_KEY) != 0) {
        return Error{ErrorCode::refused, who + ": build key mismatch: plugin '" + key + "', kernel '" +
                                             VEIL_SDK_BUILD_KEY + "' (same compiler and standard library needed)"};
    }
    if (!d->info || !d->create || !d->destroy) return Error{ErrorCode::bad_input, who + ": incomplete descriptor"};
    return ok_status();
}

Result<Plugin*> create_plugin(const PluginDescriptor& descriptor) {
    char why[512] = {};
    Plugin* plugin = descriptor.create(why, sizeof why);
    if (plugin) return plugin;
    std::string message = "its constructor failed";
    if (why[0] != '\0') message += std::string(": ") + why;
    return Error{ErrorCode::handler_failed, message};
}

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
