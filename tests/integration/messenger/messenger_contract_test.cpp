// The messenger bus contract served by a resident client (`veil daemon`), driven through a real
// frontend: the rpc plugin's JSON-RPC socket. Every method maps to one contract request, so this
// checks the messenger's side of the contract end to end on a 9-node onion testnet.
#include <sys/socket.h>
#include <sys/un.h>

#include "messenger_helpers.hpp"

using namespace veil;
using namespace veil::test::messenger_helpers;
using test::Testnet;
using nlohmann::json;

namespace {

// One JSON-RPC connection to a daemon's socket; call() writes one line and reads the answer.
class RpcSocket final {
public:
    explicit RpcSocket(const fs::path& path) {
        for (int i = 0; i < 200 && fd_ < 0; ++i) {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
            if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
                fd_ = fd;
                break;
            }
            close(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        REQUIRE(fd_ >= 0);
    }
    ~RpcSocket() {
        if (fd_ >= 0) close(fd_);
    }
    RpcSocket(const RpcSocket&) = delete;
    RpcSocket& operator=(const RpcSocket&) = delete;

    json call(const std::string& method, json params = nullptr) {
        json req{{"jsonrpc", "2.0"}, {"method", method}, {"id", ++id_}};
        if (!params.is_null()) req["params"] = std::move(params);
        auto line = req.dump() + "\n";
        REQUIRE(write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        for (;;) {
            auto nl = buf_.find('\n');
            while (nl == std::string::npos) {
                pollfd p{fd_, POLLIN, 0};
                REQUIRE(poll(&p, 1, 60000) == 1);
                char b[65536];
                auto n = read(fd_, b, sizeof b);
                REQUIRE(n > 0);
                buf_.append(b, static_cast<std::size_t>(n));
                nl = buf_.find('\n');
            }
            auto answer = json::parse(buf_.substr(0, nl));
            buf_.erase(0, nl + 1);
            if (answer.contains("id") && answer["id"] == id_) return answer;  // notifications are skipped
        }
    }

private:
    int fd_ = -1;
    int id_ = 0;
    std::string buf_;
};


}  // namespace

TEST_CASE("messenger - the daemon serves the messenger contract to a frontend", "[messenger][integration]") {
    Testnet net(9, 3);
    Person alice(net, "alice");
    Person bob(net, "bob");
    REQUIRE(test::slurp(bob.home / "veil.toml").find("'rpc'") != std::string::npos);  // init enables it
    auto log = net.dir() / "bob-daemon.log";
    test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(test::wait_for_text(log, "veil daemon: " + bob.id + " online; Ctrl-C stops\n", 20000));
    RpcSocket rpc(bob.home / "rpc.sock");

    auto profile = rpc.call("profile");
    INFO(profile.dump());
    CHECK(profile["result"]["id"] == bob.id);
    auto devices = rpc.call("devices")["result"];
    REQUIRE(devices.size() == 1);
    CHECK(devices[0]["this_device"] == true);
    CHECK(rpc.call("conversations")["result"].empty());
    CHECK(rpc.call("send", {{"to", "05abc"}, {"text", "x"}}).contains("error"));

    // Alice (a stranger) writes: the daemon receives it as a request.
    REQUIRE(alice.run({"send", bob.id, "hi, daemon"}).exit_code == 0);
    json conv;
    CHECK(eventually([&] {
        conv = rpc.call("conversations")["result"];
        return conv.size() == 1 && conv[0]["last_text"] == "hi, daemon";
    }, 30000));
    INFO(conv.dump());
    CHECK(conv[0]["request"] == true);
    CHECK(conv[0]["unread"] == 1);
    auto contacts = rpc.call("contacts")["result"];
    REQUIRE(contacts.size() == 1);
    CHECK(contacts[0]["accepted"] == false);

    // Bob accepts, names her, reads, answers; the answer goes out in the background.
    CHECK(rpc.call("contacts.accept", {{"id", alice.id}}).contains("result"));
    CHECK(rpc.call("contacts.save", {{"id", alice.id}, {"name", "Alice"}}).contains("result"));
    CHECK(rpc.call("mark_read", {{"peer", alice.id}}).contains("result"));
    conv = rpc.call("conversations")["result"];
    CHECK(conv[0]["request"] == false);
    CHECK(conv[0]["name"] == "Alice");
    CHECK(conv[0]["unread"] == 0);
    auto queued = rpc.call("send", {{"to", alice.id}, {"text", "hello from the daemon"}});
    INFO(queued.dump());
    CHECK(queued["result"]["delivery"] == "queued");
    CHECK(eventually([&] {
        auto msgs = rpc.call("messages", {{"peer", alice.id}})["result"];
        return msgs.size() == 2 && msgs[1]["delivery"] == "sent";
    }, 30000));
    CHECK(received(alice.run({"receive", "--json", "--wait", "20"})) ==
          std::vector<std::pair<std::string, std::string>>{{bob.id, "hello from the daemon"}});

    // The timer and blocking go through the contract too.
    CHECK(rpc.call("disappearing", {{"peer", alice.id}, {"seconds", 3600}}).contains("result"));
    CHECK(rpc.call("conversations")["result"][0]["disappear_after_s"] == 3600);
    CHECK(rpc.call("contacts.block", {{"id", alice.id}, {"blocked", true}}).contains("result"));
    CHECK(rpc.call("contacts")["result"][0]["blocked"] == true);

    CHECK(daemon.stop() == 0);
}
