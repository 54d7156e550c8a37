#pragma once
/// Command-line subcommands that plugins add (`veil testnet up ...`, `veil send ...`).
/// The kernel owns the registry and its built-ins (version, plugins, config, help); plugins
/// register more in start() through Context::add_command(); frontends/cli only dispatches the
/// command the kernel was given, after every enabled plugin has started.
/// Everything here is loop-thread only.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

/// Exit codes shared by every command (sysexits-like).
namespace exit_code {
inline constexpr int ok = 0;        ///< success
inline constexpr int failure = 1;   ///< the operation failed
inline constexpr int usage = 2;     ///< bad arguments
inline constexpr int internal = 70; ///< a bug (e.g. a handler that never finished)
}  // namespace exit_code

/// One running command: its arguments, its output, and how it finishes. Copyable handle;
/// the handler may keep copies in callbacks and finish later. If every copy is dropped
/// without finish(), the command ends with exit_code::internal and an error line.
class VEIL_SDK_API CommandCall final {
public:
    /// Where output goes and what happens at the end (set by the dispatcher, or a test).
    struct Sinks {
        std::function<void(std::string_view)> out;  ///< standard output
        std::function<void(std::string_view)> err;  ///< standard error
        std::function<void(int)> finished;          ///< called once with the exit code
    };
    CommandCall(std::vector<std::string> args, Sinks sinks);

    /// The arguments after the command name (`veil testnet up --nodes 3` -> {"up","--nodes","3"}).
    [[nodiscard]] const std::vector<std::string>& args() const;
    /// Writes to standard output now (add '\n' yourself).
    void out(std::string_view text) const;
    /// Writes to standard error now.
    void err(std::string_view text) const;
    /// Ends the command with `code`; later calls are ignored.
    void finish(int code) const;
    /// Writes `message` + '\n' to stderr and finishes with `code` (default exit_code::usage).
    void fail(std::string_view message, int code = exit_code::usage) const;
    /// True once finish() was called.
    [[nodiscard]] bool finished() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

/// A subcommand. `run` is called on the loop thread once all plugins have started.
struct Command {
    std::string name;                         ///< first word after `veil` ("testnet")
    std::string summary;                      ///< one line for `veil help`
    std::string usage;                        ///< e.g. "testnet up --nodes N --dir DIR"
    std::function<void(CommandCall)> run;     ///< the handler; must finish the call
    /// More lines for `veil NAME --help` (options, subcommands), printed after the usage and
    /// summary. `--help` or `-h` anywhere before a `--` never reaches `run`: the dispatcher
    /// answers it with exit 0.
    std::string help = {};
};

/// The process-wide command table (owned by the kernel).
class VEIL_SDK_API CommandRegistry final {
public:
    CommandRegistry();
    ~CommandRegistry();
    CommandRegistry(const CommandRegistry&) = delete;
    CommandRegistry& operator=(const CommandRegistry&) = delete;

    /// Adds a command; throws std::invalid_argument if the name is taken (the host reports it
    /// as that plugin's start error). `owner` names the plugin for `veil help`.
    void add(Command command, std::string owner);
    /// Removes a command (its owner stopped).
    void remove(std::string_view name);
    /// The command named `name`, or nullptr.
    [[nodiscard]] const Command* find(std::string_view name) const;
    /// Name, summary, usage and owner of every command, sorted by name.
    struct Entry {
        std::string name, summary, usage, owner;
    };
    [[nodiscard]] std::vector<Entry> list() const;

    /// The command line this process was asked to run (name first), if any. Set by the kernel.
    [[nodiscard]] const std::optional<std::vector<std::string>>& invocation() const;
    void set_invocation(std::optional<std::vector<std::string>> argv);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace veil::sdk
