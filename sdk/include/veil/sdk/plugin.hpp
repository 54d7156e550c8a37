#pragma once
/// The plugin seam: the abstract Plugin class, its descriptor, and VEIL_PLUGIN, the one macro a
/// plugin source uses to export itself.
///
/// Life of a plugin (all on the loop thread): the kernel reads the descriptor, checks
/// abi_version and build_key before touching anything else, validates the plugin's config
/// table, calls create(), then start(ctx) in dependency order; on shutdown stop() in reverse
/// order, then the Context is destroyed, then destroy() deletes the object inside the plugin's
/// own library. The library is unloaded only at process exit, after the loop is closed.
/// No exception may cross the seam: create/destroy are noexcept wrappers made by VEIL_PLUGIN,
/// and the kernel catches whatever start()/stop() throw and reports it naming the plugin.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>

#include "veil/sdk/abi_version.hpp"  // generated at build time: kAbiVersion, kSdkVersion
#include "veil/sdk/config.hpp"
#include "veil/sdk/context.hpp"
#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"

namespace veil::sdk {

/// Names the compiler and standard library a plugin was built with (Qt's "build key").
/// Two builds whose keys differ cannot share C++ types such as std::string, so the kernel
/// refuses such a plugin. Expanded in the plugin's translation unit, so it describes the plugin.
#if defined(__clang__)
#define VEIL_SDK_COMPILER_KEY "clang-" VEIL_SDK_STR(__clang_major__)
#elif defined(__GNUC__)
#define VEIL_SDK_COMPILER_KEY "gcc-" VEIL_SDK_STR(__GNUC__)
#else
#define VEIL_SDK_COMPILER_KEY "unknown-compiler"
#endif
#if defined(_LIBCPP_VERSION)
#define VEIL_SDK_STDLIB_KEY "libc++-" VEIL_SDK_STR(_LIBCPP_VERSION)
#elif defined(__GLIBCXX__)
#define VEIL_SDK_STDLIB_KEY "libstdc++-abi" VEIL_SDK_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define VEIL_SDK_STDLIB_KEY "unknown-stdlib"
#endif
#define VEIL_SDK_STR2(x) #x
#define VEIL_SDK_STR(x) VEIL_SDK_STR2(x)
/// The full build key: compiler family and major version, standard library and its ABI flag.
#define VEIL_SDK_BUILD_KEY VEIL_SDK_COMPILER_KEY " " VEIL_SDK_STDLIB_KEY

/// What role a plugin plays (DESIGN.md §1 folders). Zero is never valid.
enum class PluginKind : std::uint8_t {
    frontend = 1,  ///< frontends/: cli, web, rpc
    role,          ///< plugins/: messenger, service-node, directory
    processor,     ///< plugins/: attachment processors such as exif-strip
    transport,     ///< transports/: onion, direct
    storage,       ///< storage/: sqlcipher, memory
    other,         ///< examples, fixtures
};

/// Stable name of a kind ("frontend", "role", ...).
VEIL_SDK_API std::string_view to_string(PluginKind kind) noexcept;

/// Base class of every plugin. Owned by the kernel through the descriptor's create/destroy.
class VEIL_SDK_API Plugin {
public:
    Plugin() = default;
    /// Defined in libveil-sdk so the vtable and type info live there once.
    virtual ~Plugin();
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    /// Starts the plugin: subscribe, serve, open sockets, register commands. Loop thread.
    /// Throwing means "could not start": the kernel logs the message naming the plugin,
    /// stops the plugins already started, and exits non-zero. `ctx` outlives stop().
    virtual void start(Context& ctx) = 0;
    /// Stops the plugin: close handles, stop accepting work. Loop thread. Must not throw
    /// (a throw is logged and ignored). Pending bus callbacks are dropped by the kernel.
    virtual void stop() = 0;
};

/// What a plugin says about itself: constant data in the plugin's source.
struct PluginInfo {
    std::string_view name;         ///< unique, lower-case, also the config table name
    std::string_view version;      ///< the plugin's own version ("0.1.0")
    PluginKind kind;               ///< its role
    std::string_view description;  ///< one line for `veil plugins`
    std::span<const std::string_view> provides;     ///< capabilities ("storage", "transport")
    std::span<const std::string_view> requires_;    ///< capabilities or plugin names it needs
    std::span<const ConfigKeySpec> config;          ///< keys of its config table
    std::span<const std::string_view> commands;     ///< CLI commands it registers, so that
                                                    ///< `veil CMD` without --config enables it
    /// Optional checks of the table beyond key types (ranges, combinations): throws
    /// std::invalid_argument with a message naming the key. Run by `veil config check` and
    /// before every start, so the config check refuses what start() would.
    void (*check_config)(const Config& config) = nullptr;
};

/// The exported descriptor. Layout rule: abi_version and build_key come first and are plain
/// C data, so the kernel can check them before reading any C++ member.
struct PluginDescriptor {
    std::uint32_t abi_version;      ///< kAbiVersion of the SDK the plugin was compiled with
    const char* build_key;          ///< VEIL_SDK_BUILD_KEY of the plugin's compiler
    const char* sdk_version;        ///< kSdkVersion, for messages
    const PluginInfo* info;         ///< read only after both checks pass
    /// New plugin object, or nullptr if its constructor threw; then the constructor's message is
    /// written into the caller's buffer `error` (NUL-terminated, at most `error_size` bytes), so
    /// it reaches the kernel even when the plugin carries its own copy of the SDK (static build).
    Plugin* (*create)(char* error, std::size_t error_size) noexcept;
    void (*destroy)(Plugin*) noexcept;  ///< deletes the object inside the plugin's library
};

/// Copies `message` into create()'s error buffer, cut to fit. Inline: it runs in the plugin's
/// code, whatever copy of the SDK the plugin carries.
inline void write_create_error(char* error, std::size_t error_size, const char* message) noexcept {
    if (error == nullptr || error_size == 0) return;
    std::size_t n = 0;
    for (; message != nullptr && n + 1 < error_size && message[n] != '\0'; ++n) error[n] = message[n];
    error[n] = '\0';
}

/// The checks every loader makes before reading anything else of a descriptor: abi_version and
/// build_key (plain C data) against this SDK's, then that info, create and destroy are present.
/// `who` names the plugin (and its file) in the message. Used by the kernel's plugin host and
/// by the test harness, so both refuse the same plugins with the same words.
VEIL_SDK_API Status check_descriptor(const PluginDescriptor* descriptor, const std::string& who);

/// Makes the plugin object through a checked descriptor: the object (destroy it with
/// descriptor.destroy), or an Error "its constructor failed[: MESSAGE]". Loop thread.
VEIL_SDK_API Result<Plugin*> create_plugin(const PluginDescriptor& descriptor);

/// Signature of the exported entry point (alias `veil_plugin_descriptor`).
using DescriptorFn = const PluginDescriptor*();

}  // namespace veil::sdk

/// Exports a plugin. Use once, at namespace scope, in the plugin's registration source:
///
///     VEIL_PLUGIN(memory, kInfo, veil::memory::MemoryPlugin)
///
/// `id` is the plugin name as an identifier (dashes become underscores), `info` a PluginInfo
/// constant, `Class` the Plugin subclass (default-constructible).
/// Dynamic build: exported through a Boost.DLL alias named `veil_plugin_descriptor`.
/// Static build (the target defines VEIL_PLUGIN_STATIC): a uniquely named C function
/// `veil_static_plugin_<id>` that the generated static table of the veil executable calls,
/// so the linker keeps it (force registration, as Envoy's DECLARE_FACTORY) and nothing is
/// dlopened.
#define VEIL_PLUGIN_DESCRIBE_(id, info, Class)                                                  \
    namespace veil_plugin_##id {                                                               \
    static ::veil::sdk::Plugin* create(char* error, std::size_t error_size) noexcept {         \
        try {                                                                                  \
            return new Class();                                                                \
        } catch (const std::exception& e) {                                                    \
            ::veil::sdk::write_create_error(error, error_size, e.what());                      \
        } catch (...) {                                                                        \
            ::veil::sdk::write_create_error(error, error_size, "non-standard exception");      \
        }                                                                                      \
        return nullptr;                                                                        \
    }                                                                                          \
    static void destroy(::veil::sdk::Plugin* p) noexcept { delete p; }                        \
    static const ::veil::sdk::PluginDescriptor descriptor{                                     \
        ::veil::sdk::kAbiVersion, VEIL_SDK_BUILD_KEY, ::veil::sdk::kSdkVersion, &(info),       \
        &create, &destroy};                                                                    \
    }                                                                                          \
    extern "C" __attribute__((visibility("default"))) const ::veil::sdk::PluginDescriptor*    \
    veil_static_plugin_##id() {                                                                \
        return &veil_plugin_##id::descriptor;                                                  \
    }

#if defined(VEIL_PLUGIN_STATIC)
#define VEIL_PLUGIN_IMPL_(id, info, Class) VEIL_PLUGIN_DESCRIBE_(id, info, Class)
#else
#include <boost/dll/alias.hpp>
#define VEIL_PLUGIN_IMPL_(id, info, Class)                                                    \
    VEIL_PLUGIN_DESCRIBE_(id, info, Class)                                                     \
    BOOST_DLL_ALIAS(veil_static_plugin_##id, veil_plugin_descriptor)
#endif
// One level of indirection so that `id` may itself be a macro.
#define VEIL_PLUGIN(id, info, Class) VEIL_PLUGIN_IMPL_(id, info, Class)
