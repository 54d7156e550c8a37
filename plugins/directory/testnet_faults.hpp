#pragma once
/// Faults of a running test network (`veil testnet kill|restart|cut|heal --name NAME --dir DIR`):
/// a process killed with SIGKILL and started again (perhaps with its clock off, through
/// libfaketime), and a host cut off the hosts' bridge and joined again (a partition).
/// Process control for testnet_plugin.cpp; the files are laid out as testnet.hpp says.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace veil::directory {

/// `args` (args[0] one of our executables) as this machine runs it: prefixed with the words of
/// VEIL_EMULATOR when that is set (a cross build run under qemu-user without binfmt_misc, e.g.
/// "qemu-aarch64 -L /usr/aarch64-linux-gnu"; docs/small-devices.md), else unchanged.
std::vector<std::string> emulated(std::vector<std::string> args);

/// Starts `args` (args[0] the executable; found on PATH when it has no slash) in its own session,
/// through emulated(), with stdout and stderr appended to `log`, in network namespace `netns`
/// when one is named, with `env` ("KEY=VALUE") added to ours.
int spawn(std::vector<std::string> args, const std::filesystem::path& log, const std::string& netns = {},
          const std::vector<std::string>& env = {});
/// The running veil executable's path.
std::string self_exe();

/// SIGKILL to process `name` of the testnet in `dir` (an authority or a node; its link emulator
/// stays), waiting until it is gone. Throws when there is no such process; a process already
/// stopped is fine. Returns the pid killed (0: it was not running).
int kill_testnet_process(const std::filesystem::path& dir, const std::string& name);

/// libfaketime's preload library on this machine (Debian: package libfaketime), or nullopt.
std::optional<std::filesystem::path> find_libfaketime();

/// Starts process `name` again (killed first when it runs) from its config, in its namespace
/// with --hosts, and records its new pid in DIR/testnet.pids. With `clock_offset_s` its wall
/// clock reads that many seconds off (libfaketime; the monotonic clock is left true). Returns
/// the new pid.
int restart_testnet_process(const std::filesystem::path& dir, const std::string& name,
                            std::optional<std::int64_t> clock_offset_s);

/// --hosts: takes host `name`'s link to the bridge down (`cut`, a partition: nothing reaches it
/// nor leaves it; its processes keep running) or up again (`heal`).
void set_host_link(const std::filesystem::path& dir, const std::string& name, bool up);

}  // namespace veil::directory
