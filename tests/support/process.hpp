#pragma once
// Runs `veil` (or any program) as a child process for tests: captured output, exit code
// (128 + n when signal n ended it), a hard deadline (the child is killed after it), background
// children, and interactive ones read line by line and killed with SIGKILL. A child never
// inherits VEIL_PASSPHRASE or VEIL_NEW_PASSPHRASE: the test passes them in `env` if it wants.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace veil::test {

inline std::string veil_exe() { return std::string(VEIL_BINARY_DIR) + "/bin/veil"; }
inline std::string fixture_dir() { return std::string(VEIL_BINARY_DIR) + "/tests/fixtures/plugins"; }

struct ProcessResult {
    int exit_code = -1;  ///< -1: killed at the deadline; 128 + n: killed by signal n
    std::string out, err;
};

/// A fresh directory under /tmp, removed when the object dies.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "veil-test-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// Writes `text` to a file in the directory and returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        auto p = path_ / name;
        std::ofstream(p) << text;
        return p.string();
    }

private:
    std::filesystem::path path_;
};

namespace detail {
/// argv as this machine runs it: a program of this build (under VEIL_BINARY_DIR) gets the words of
/// VEIL_EMULATOR in front when that is set (a cross build's tests run under qemu-user, and
/// binfmt_misc is not assumed; cmake/VeilTesting.cmake sets it). Host programs run as they are.
inline std::vector<std::string> emulated(const std::vector<std::string>& argv) {
    const char* emulator = std::getenv("VEIL_EMULATOR");
    if (!emulator || !*emulator || argv.empty() || !argv[0].starts_with(VEIL_BINARY_DIR)) return argv;
    std::vector<std::string> out;
    std::istringstream words(emulator);
    for (std::string w; words >> w;) out.push_back(w);
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

// In a forked child: stdout and stderr to the given descriptors, the environment, exec.
[[noreturn]] inline void spawn_here(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd,
                                    int err_fd) {
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    unsetenv("VEIL_PASSPHRASE");
    unsetenv("VEIL_NEW_PASSPHRASE");
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    const auto program = emulated(argv);
    std::vector<char*> args;
    for (const auto& a : program) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
}

inline pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd, int err_fd) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) spawn_here(argv, env, out_fd, err_fd);
    return pid;
}

inline std::vector<std::string> with_veil(const std::vector<std::string>& args) {
    std::vector<std::string> argv{veil_exe()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// 128 + signal for a child killed by a signal (as a shell reports it), so a crash is told apart
// from a hang (-1).
inline int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}
}  // namespace detail

/// Runs argv (argv[0] is a path) with extra "K=V" env entries; kills it after timeout_ms.
inline ProcessResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                         int timeout_ms = 20000) {
    int out[2], err[2];
    // Close-on-exec: a grandchild (a node started by `veil testnet up`) must not keep the pipe open.
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = detail::spawn(argv, env, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    ProcessResult r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    bool killed = false;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        if (poll(fds, 2, static_cast<int>(left)) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) close(f.fd);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = killed ? -1 : detail::decode_status(status);
    return r;
}

/// Runs veil with `args`.
inline ProcessResult run_veil(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                          int timeout_ms = 20000) {
    return run(detail::with_veil(args), env, timeout_ms);
}

/// A veil process in the background, its stderr in a file; stop() sends SIGTERM and waits.
class Background {
public:
    Background(const std::vector<std::string>& args, const std::string& log_file) {
        int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_ = detail::spawn(detail::with_veil(args), {}, fd, fd);
        close(fd);
    }
    ~Background() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    /// True while the child runs.
    bool alive() {
        int status = 0;
        if (pid_ <= 0) return false;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_code_ = detail::decode_status(status);
            pid_ = -1;
            return false;
        }
        return true;
    }
    /// SIGTERM, then wait up to timeout_ms; the exit code (-1 if it had to be killed at the
    /// deadline, 128 + n if signal n ended it).
    int stop(int timeout_ms = 10000) {
        if (pid_ <= 0) return exit_code_;
        kill(pid_, SIGTERM);
        for (int waited = 0; waited < timeout_ms; waited += 20) {
            if (!alive()) return exit_code_;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        // VEIL_TEST_GDB_ON_HANG=1: the hung child's threads are written to $TMPDIR/veil-hang.<pid>.txt.
        if (std::getenv("VEIL_TEST_GDB_ON_HANG")) {
            const char* tmp = std::getenv("TMPDIR");
            const std::string cmd = "gdb -p " + std::to_string(pid_) + " -batch -ex 'thread apply all bt' > " +
                                    (tmp ? tmp : "/tmp") + "/veil-hang." + std::to_string(pid_) + ".txt 2>&1";
            if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "gdb could not attach to %d\n", pid_);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
    }

private:
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

/// Waits until `file` exists and is non-empty (bounded); returns its first line.
inline std::string wait_for_line(const std::filesystem::path& file, int timeout_ms = 10000) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        std::ifstream in(file);
        std::string line;
        if (in && std::getline(in, line) && !line.empty()) return line;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {};
}

inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Waits until `file` contains `text` (bounded); true once it does.
inline bool wait_for_text(const std::filesystem::path& file, std::string_view text, int timeout_ms = 10000) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (read_file(file).find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

/// A veil process (or any program) with its stdin and stdout on pipes (stderr in a file): a
/// test or benchmark types lines and reads what it prints. Killed when destroyed.
class Interactive final {
public:
    /// Any program: argv[0] is a path.
    struct Program {
        std::vector<std::string> argv;
    };
    /// `veil args...`.
    Interactive(const std::vector<std::string>& args, const std::filesystem::path& err_file)
        : Interactive(Program{detail::with_veil(args)}, err_file) {}
    Interactive(const Program& program, const std::filesystem::path& err_file) {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(in[0], 0);
            close(in[1]);
            close(out[0]);
            detail::spawn_here(program.argv, {}, out[1], err);
        }
        close(in[0]);
        close(out[1]);
        close(err);
        in_ = in[1];
        out_ = out[0];
        signal(SIGPIPE, SIG_IGN);
    }
    ~Interactive() {
        close_stdin();
        if (out_ >= 0) close(out_);
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    Interactive(const Interactive&) = delete;
    Interactive& operator=(const Interactive&) = delete;

    /// Writes `line` and a newline to its stdin; false when it could not (it ended).
    bool type(const std::string& line) { return write_stdin(line + "\n"); }
    /// Writes `bytes` to its stdin as they are.
    bool write_stdin(std::string_view bytes) {
        return in_ >= 0 && write(in_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    }
    void close_stdin() {
        if (in_ >= 0) close(in_);
        in_ = -1;
    }
    /// Reads stdout until it holds `needle` at or after offset `from` (true) or timeout_ms
    /// passes (false).
    bool wait_for(const std::string& needle, int timeout_ms, std::size_t from = 0) {
        using clock = std::chrono::steady_clock;
        auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
        while (output_.find(needle, from) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
            if (left <= 0 || out_ < 0) return false;
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[4096];
            auto n = read(out_, buf, sizeof buf);
            if (n <= 0) {
                close(out_);
                out_ = -1;
                continue;
            }
            output_.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    /// Waits for the exit (bounded); its code, -1 when it did not end or died of a signal.
    int wait_exit(int timeout_ms) {
        for (int waited = 0; waited < timeout_ms; waited += 20) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
    /// The next line it printed (without '\n'), or nullopt at end of output or after timeout_ms.
    std::optional<std::string> read_line(int timeout_ms = 30000) {
        if (!wait_for("\n", timeout_ms, line_at_)) return std::nullopt;
        auto nl = output_.find('\n', line_at_);
        auto line = output_.substr(line_at_, nl - line_at_);
        line_at_ = nl + 1;
        return line;
    }
    void signal_term() { kill(pid_, SIGTERM); }
    /// kill -9 and reap.
    void kill9() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    const std::string& output() const { return output_; }

private:
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string output_;
    std::size_t line_at_ = 0;  // where read_line() goes on
};

}  // namespace veil::test
