#pragma once
// Real child processes for the storage tests: run one to completion (output, exit code), or
// start one, read its stdout line by line and kill -9 it. Every wait has a deadline.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace veil::test {

struct ChildResult {
    int exit_code = -1;  ///< -1: killed by a signal or at the deadline
    std::string out, err;
};

/// A running child with its stdout and stderr on pipes.
class Child {
public:
    /// Starts argv[0] (a path) with extra "K=V" environment entries; VEIL_PASSPHRASE and
    /// VEIL_NEW_PASSPHRASE are cleared first so the caller decides them.
    explicit Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
        int out[2], err[2];
        if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(out[1], 1);
            dup2(err[1], 2);
            ::close(out[0]);
            ::close(err[0]);
            unsetenv("VEIL_PASSPHRASE");
            unsetenv("VEIL_NEW_PASSPHRASE");
            for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) ::close(out_);
        if (err_ >= 0) ::close(err_);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    /// The next stdout line (without '\n'), or nullopt at end of output or after timeout_ms.
    std::optional<std::string> read_line(int timeout_ms = 30000) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                auto line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || out_ < 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            auto n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) {
                ::close(out_);
                out_ = -1;
                continue;
            }
            buf_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// kill -9 and reap.
    void kill9() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    /// Reads all output and waits for the exit (killing the child after timeout_ms).
    ChildResult finish(int timeout_ms = 60000) {
        ChildResult r;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        r.out = buf_;
        buf_.clear();
        bool killed = false;
        while (out_ >= 0 || err_ >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                ::kill(pid_, SIGKILL);
                killed = true;
                break;
            }
            pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
            if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
            for (int i = 0; i < 2; ++i) {
                int& fd = i == 0 ? out_ : err_;
                if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char chunk[4096];
                auto n = ::read(fd, chunk, sizeof chunk);
                if (n <= 0) {
                    ::close(fd);
                    fd = -1;
                } else {
                    (i == 0 ? r.out : r.err).append(chunk, static_cast<std::size_t>(n));
                }
            }
        }
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        r.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return r;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1, err_ = -1;
    std::string buf_;
};

/// Runs argv to completion.
inline ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                             int timeout_ms = 60000) {
    Child c(argv, env);
    return c.finish(timeout_ms);
}

}  // namespace veil::test
