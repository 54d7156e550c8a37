// The rpc frontend end to end: Bob runs `veil daemon` with the rpc plugin on a 9-node onion
// testnet, the example echo bot talks to his socket, and Alice uses the CLI. Also the daemon
// seen from outside: its line, `profile` over the socket, SIGTERM -> exit 0, socket removed.
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

using veil::test::Testnet;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

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
                return json::parse(l);
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

private:
    int fd_ = -1;
    bool connected_ = false;
    std::string in_;
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

std::string request(const std::string& method, const json& params, int id) {
    json r{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
    if (!params.is_null()) r["params"] = params;
    return r.dump();
}

int error_code(const json& answer) {
    if (!answer.is_object() || !answer.contains("error")) return 0;
    return answer["error"]["code"].get<int>();
}

// Starts Bob's daemon and waits until it is online and its socket is there.
bool daemon_online(const Person& p, const fs::path& log) {
    return eventually(
        [&] {
            return veil::test::read_file(log).find("veil daemon: " + p.id + " online") != std::string::npos &&
                   fs::exists(p.socket());
        },
        60000);
}

}  // namespace

TEST_CASE("rpc - the daemon prints its line, answers profile on a 0600 socket, and stops cleanly on SIGTERM",
          "[rpc][integration]") {
    Testnet net(9, 3);
    Person bob(net, "bob");
    bob.enable_rpc();
    auto log = net.dir() / "bob-daemon.log";
    veil::test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(daemon_online(bob, log));
    INFO(veil::test::read_file(log));
    struct stat st {};
    REQUIRE(::lstat(bob.socket().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    {
        LineClient c(bob.socket());
        REQUIRE(c.connected());
        auto profile = c.call(request("profile", nullptr, 1));
        CHECK(profile["id"] == 1);
        CHECK(profile["result"]["id"] == bob.id);
        CHECK(profile["result"]["device_key"].get<std::string>().size() == 64);
    }
    // Clients that leave with answers still to come (EPIPE, not SIGPIPE) leave it serving.
    for (int i = 0; i < 5; ++i) {
        LineClient gone(bob.socket());
        std::string burst;
        for (int j = 0; j < 100; ++j) burst += request("conversations", nullptr, j) + "\n";
        gone.send_raw(burst);
    }
    {
        LineClient c(bob.socket());
        CHECK(c.call(request("profile", nullptr, 2))["result"]["id"] == bob.id);
    }
    CHECK(daemon.alive());
    const int stopped = daemon.stop(20000);
    INFO("daemon log at stop:\n" << veil::test::read_file(log));
    CHECK(stopped == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
    // A one-shot command on the same HOME opens no socket.
    auto r = bob.run({"id"});
    CHECK(r.exit_code == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
}

TEST_CASE("rpc - the echo bot answers a message sent from the CLI; bad requests get standard errors and the daemon "
          "keeps serving",
          "[rpc][integration]") {
    Testnet net(9, 3);
    Person alice(net, "alice");
    Person bob(net, "bob");
    bob.enable_rpc();
    auto log = net.dir() / "bob-daemon.log";
    veil::test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(daemon_online(bob, log));
    INFO(veil::test::read_file(log));

    auto bot_log = net.dir() / "bot.log";
    Program bot({"/usr/bin/python3", VEIL_ECHO_BOT, bob.socket().string()}, bot_log);
    REQUIRE(eventually([&] { return veil::test::read_file(bot_log).find("echo bot ready: " + bob.id) != std::string::npos; },
                       30000));
    INFO(veil::test::read_file(bot_log));

    auto sent = alice.run({"send", bob.id, "hello bot"});
    INFO(sent.err);
    REQUIRE(sent.exit_code == 0);
    std::vector<json> got;
    for (int attempt = 0; attempt < 6 && got.empty(); ++attempt) {
        auto r = alice.run({"receive", "--wait", "15", "--json"}, 60000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0]["from"] == bob.id);
    CHECK(got[0]["text"] == "echo: hello bot");

    // Bad input on the live socket: each gets its standard error, and the daemon keeps serving.
    LineClient c(bob.socket());
    REQUIRE(c.connected());
    auto parse = c.call(R"({"jsonrpc":"2.0","method":"profile")");
    CHECK(error_code(parse) == -32700);
    CHECK(parse["id"].is_null());
    CHECK(error_code(c.call(R"({"jsonrpc":"2.0","method":7,"id":1})")) == -32600);
    CHECK(error_code(c.call(R"({"jsonrpc":"1.0","method":"profile","id":2})")) == -32600);
    CHECK(error_code(c.call(request("frobnicate", nullptr, 3))) == -32601);
    CHECK(error_code(c.call(request("send", {{"to", alice.id}}, 4))) == -32602);
    CHECK(error_code(c.call(request("messages", {{"peer", 5}}, 5))) == -32602);
    auto bad_id = c.call(request("send", {{"to", "not-an-id"}, {"text", "x"}}, 6));
    CHECK(error_code(bad_id) <= -32001);
    CHECK(error_code(bad_id) >= -32099);
    CHECK(c.call(request("profile", nullptr, 7))["result"]["id"] == bob.id);
    // The conversation with Alice shows both messages through the API.
    auto msgs = c.call(request("messages", {{"peer", alice.id}}, 8));
    REQUIRE(msgs["result"].is_array());
    std::vector<std::string> texts;
    for (const auto& m : msgs["result"]) {
        texts.push_back(m["text"]);
        CHECK(m["request"] == false);  // the bot's answer accepted Alice's request
    }
    CHECK(texts == std::vector<std::string>{"hello bot", "echo: hello bot"});

    CHECK(daemon.stop(20000) == 0);
    CHECK_FALSE(fs::exists(bob.socket()));
    CHECK(bot.wait(10000) == 0);  // the bot ends when the daemon closes the socket
}
