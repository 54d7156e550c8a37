// plugins/directory (testnet): faults of a running test network (testnet_faults.hpp).
#include "testnet_faults.hpp"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "hosts.hpp"
#include "testnet.hpp"

extern char** environ;

namespace veil::directory {

namespace fs = std::filesystem;

std::vector<std::string> emulated(std::vector<std::string> args) {
    const char* emulator = std::getenv("VEIL_EMULATOR");
    if (!emulator || !*emulator) return args;
    std::vector<std::string> out;
    std::istringstream words(emulator);
    for (std::string w; words >> w;) out.push_back(w);
    if (out.empty()) return args;
    out.insert(out.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return out;
}

int spawn(std::vector<std::string> args, const fs::path& log, const std::string& netns, const std::vector<std::string>& env) {
    args = emulated(std::move(args));
    std::string logp = log.string();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_lines(env);
    std::vector<char*> envp;  // ours first: getenv finds the first of two equal keys
    for (auto& e : env_lines) envp.push_back(e.data());
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    envp.push_back(nullptr);
    int ns_fd = netns.empty() ? -1 : open_netns(netns);
    if (!netns.empty() && ns_fd < 0) throw std::runtime_error("network namespace " + netns + " is missing");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Only async-signal-safe calls until exec.
        if (ns_fd >= 0 && !enter_netns_fd(ns_fd)) ::_exit(126);
        ::setsid();
        int fd = ::open(logp.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = ::open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        if (null >= 0) ::dup2(null, 0);
        ::execvpe(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    if (ns_fd >= 0) ::close(ns_fd);
    return pid;
}

std::string self_exe() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot find the veil executable");
    return p.string();
}

namespace {

// The "name pid" line of `name` in DIR/testnet.pids; throws when it has none (or names a link
// emulator: those are the network, not a fault's target).
int pid_of(const fs::path& dir, const std::string& name) {
    if (name.starts_with("link-")) throw std::runtime_error(name + " is a link emulator; cut or heal its host instead");
    for (const auto& [n, pid] : read_pids(dir))
        if (n == name) return pid;
    throw std::runtime_error("no process " + name + " in " + (dir / "testnet.pids").string());
}

void record_pid(const fs::path& dir, const std::string& name, int pid) {
    auto pids = read_pids(dir);
    std::ofstream out(dir / "testnet.pids", std::ios::trunc);
    for (const auto& [n, p] : pids) out << n << " " << (n == name ? pid : p) << "\n";
    if (!out) throw std::runtime_error("cannot write " + (dir / "testnet.pids").string());
}

// The namespace `name` runs in with --hosts; empty on a loopback testnet.
std::string netns_of(const fs::path& dir, const std::string& name) {
    if (!HostsNet::exists(dir)) return {};
    for (const auto& h : HostsNet::open(dir).hosts())
        if (h.name == name) return h.netns;
    throw std::runtime_error("no host " + name + " in " + (dir / "hosts.state").string());
}

}  // namespace

int kill_testnet_process(const fs::path& dir, const std::string& name) {
    const int pid = pid_of(dir, name);
    if (!is_testnet_process(pid, dir)) return 0;
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && is_testnet_process(pid, dir); ++i) ::usleep(10'000);
    if (is_testnet_process(pid, dir)) throw std::runtime_error(name + " (pid " + std::to_string(pid) + ") survived SIGKILL");
    return pid;
}

std::optional<fs::path> find_libfaketime() {
    glob_t g{};
    std::optional<fs::path> found;
    for (const char* pattern : {"/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                                "/usr/lib64/faketime/libfaketime.so.1"}) {
        if (::glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0) found = g.gl_pathv[0];
        ::globfree(&g);
        if (found) break;
    }
    return found;
}

int restart_testnet_process(const fs::path& dir, const std::string& name, std::optional<std::int64_t> clock_offset_s) {
    std::vector<std::string> env;
    if (clock_offset_s) {
        auto lib = find_libfaketime();
        if (!lib) throw std::runtime_error("--clock-offset needs libfaketime (Debian: apt-get install libfaketime)");
        // Only the wall clock moves: timers (libuv's monotonic clock) keep their true pace.
        env = {"LD_PRELOAD=" + lib->string(), "FAKETIME=" + std::string(*clock_offset_s >= 0 ? "+" : "") + std::to_string(*clock_offset_s),
               "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_DONT_RESET=1"};
    }
    kill_testnet_process(dir, name);
    const auto config = dir / name / "veil.toml";
    if (!fs::exists(config)) throw std::runtime_error("no config " + config.string());
    const int pid = spawn({self_exe(), "--config", config.string()}, dir / name / "veil.log", netns_of(dir, name), env);
    record_pid(dir, name, pid);
    return pid;
}

void set_host_link(const fs::path& dir, const std::string& name, bool up) { HostsNet::open(dir).set_link_up(name, up); }

}  // namespace veil::directory
