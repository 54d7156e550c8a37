#pragma once
// What the rpc integration tests share: a person who enables the rpc plugin, a blocking
// JSON-RPC line client on the daemon's socket, a background program, request lines.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/person.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"

namespace veil::test::rpc_helpers {

using json = nlohmann::json;
namespace fs = std::filesystem;


// A person made with `veil init` on the testnet (support/person.hpp) who can enable rpc.
struct Person : veil::test::Person {
    using veil::test::Person::Person;
    // Enables the rpc frontend in HOME/veil.toml unless `veil init` already did.
    void enable_rpc() const {
        auto text = veil::test::read_file(home / "veil.toml");
        std::smatch m;
        REQUIRE(std::regex_search(text, m, std::regex("plugins = \\[[^\\]]*\\]")));
        std::string list = m[0];
        if (list.find("\"rpc\"") != std::string::npos || list.find("'rpc'") != std::string::npos) return;
        std::string with = list.substr(0, list.size() - 1);
        while (!with.empty() && with.back() == ' ') with.pop_back();
        with += ", \"rpc\" ]";
        text.replace(static_cast<std::size_t>(m.position(0)), list.size(), with);
        std::ofstream(home / "veil.toml", std::ios::trunc) << text;
    }
    fs::path socket() const { return home / "rpc.sock"; }
};

// Polls `pred` every 50 ms for at most timeout_ms.
template <class Pred>
bool eventually(Pred pred, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

// A blocking JSON-RPC client on the daemon's socket, every read bounded by a deadline.
class LineClient final {
public:
    explicit LineClient(const fs::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~LineClient() { ::close(fd_); }
    LineClient(const LineClient&) = delete;
    LineClient& operator=(const LineClient&) = delete;
    bool connected() const { return connected_; }
    void send_raw(const std::string& bytes) { (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

    // Sends one raw line and returns the next line as JSON ("<none>" if nothing came in time).
    json call(const std::string& line, int timeout_ms = 30000) {
        std::string out = line + "\n";
        if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return "<send failed>";
        auto deadline = veil::test::now_ms() + static_cast<std::uint64_t>(timeout_ms);
        for (;;) {
            auto nl = in_.find('\n');
            if (nl != std::string::npos) {
                std::string l = in_.substr(0, nl);
                in_.erase(0, nl + 1);
                auto j = json::parse(l);
                // A notification (after subscribe) is kept aside: the answer is the next line with an id.
                if (j.is_object() && j.contains("method") && !j.contains("id")) {
                    notes_.push_back(std::move(j));
                    continue;
                }
                return j;
            }
            auto now = veil::test::now_ms();
            if (now >= deadline) return "<none>";
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(deadline - now)) <= 0) continue;
            char buf[65536];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return "<closed>";
            in_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // Notifications that came while waiting for answers, oldest first.
    const std::vector<json>& notifications() const { return notes_; }

private:
    int fd_ = -1;
    bool connected_ = false;
    std::string in_;
    std::vector<json> notes_;
};

// Any program in the background (stdout and stderr to a file); SIGTERM then SIGKILL at the end.
class Program final {
public:
    Program(const std::vector<std::string>& argv, const fs::path& log) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_ = veil::test::detail::spawn(argv, {}, fd, fd);
        ::close(fd);
    }
    ~Program() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    // The exit code once it ended by itself within timeout_ms (-1: still running, so killed).
    int wait(int timeout_ms) {
        int status = 0;
        for (int waited = 0; waited < timeout_ms; waited += 20) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return veil::test::detail::decode_status(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
};

inline std::string request(const std::string& method, const json& params, int id) {
    json r{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
    if (!params.is_null()) r["params"] = params;
    return r.dump();
}

inline int error_code(const json& answer) {
    if (!answer.is_object() || !answer.contains("error")) return 0;
    return answer["error"]["code"].get<int>();
}

// Waits until `p`'s daemon is online and its socket is there.
inline bool daemon_online(const Person& p, const fs::path& log) {
    return eventually(
        [&] {
            return veil::test::read_file(log).find("veil daemon: " + p.id + " online") != std::string::npos &&
                   fs::exists(p.socket());
        },
        60000);
}


}  // namespace veil::test::rpc_helpers
