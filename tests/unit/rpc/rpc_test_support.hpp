#pragma once
// Helpers for the rpc protocol tests: a messenger contract served on the bus BY THE TEST (an
// in-memory conversation store, so the JSON-RPC layer can be checked without a network), and
// a plain Unix-socket client that the test drives while the loop runs on the same thread.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/loop.hpp"
#include "veil/sdk/bus.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::rpc::test {

namespace msg = sdk::messenger;
using json = nlohmann::json;

inline std::string veil_id(char c) { return "05" + std::string(64, c); }
inline std::string group_id(char c) { return "03" + std::string(64, c); }

// A repeating 2 ms timer for the life of a test. TestLoop::run_until arms a 5 ms timer computed
// from the loop's cached time; when that time is stale the timer fires at once and the next
// poll may wait forever for I/O that never comes (e.g. a peer that does not read). Keeping one
// timer always armed bounds every poll.
class Heartbeat final {
public:
    explicit Heartbeat(uv_loop_t* loop) : t_(new uv_timer_t) {
        uv_timer_init(loop, t_);
        uv_timer_start(t_, [](uv_timer_t*) {}, 2, 2);
    }
    ~Heartbeat() {
        uv_close(reinterpret_cast<uv_handle_t*>(t_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    }
    Heartbeat(const Heartbeat&) = delete;
    Heartbeat& operator=(const Heartbeat&) = delete;

private:
    uv_timer_t* t_;
};

// The messenger contract, served by the test with an in-memory store.
class TestServedMessenger final {
public:
    explicit TestServedMessenger(sdk::Bus& bus) : bus_(bus) {
        keep(bus.serve<msg::GetProfile>([](const msg::GetProfile&, sdk::Responder<msg::Profile> r) {
            r.reply({veil_id('a'), std::string(64, 'd')});
        }));
        keep(bus.serve<msg::SendMessage>([this](const msg::SendMessage& q, sdk::Responder<msg::Queued> r) {
            if (q.to.size() != 66 || !(q.to.starts_with("05") || q.to.starts_with("03"))) {
                return r.fail(sdk::ErrorCode::bad_input, "not a Veil ID");
            }
            msg::Message m = make(q.to, veil_id('a'), true, q.text);
            m.delivery = msg::Delivery::queued;
            sent.push_back(q);
            bus_.publish(msg::MessageAdded{m});
            r.reply({m});
        }));
        keep(bus.serve<msg::ListConversations>([this](const msg::ListConversations&, sdk::Responder<msg::ConversationList> r) {
            msg::ConversationList l;
            for (const auto& [peer, ms] : messages) {
                msg::Conversation c;
                c.peer = peer;
                for (const auto& m : ms) c.unread += (!m.outgoing && !m.read) ? 1 : 0;
                c.blocked = blocked[peer];
                l.conversations.push_back(c);
            }
            r.reply(std::move(l));
        }));
        keep(bus.serve<msg::ListMessages>([this](const msg::ListMessages& q, sdk::Responder<msg::MessageList> r) {
            msg::MessageList l;
            const auto& ms = messages[q.peer];
            const std::size_t from = ms.size() > q.limit ? ms.size() - q.limit : 0;
            l.messages.assign(ms.begin() + static_cast<std::ptrdiff_t>(from), ms.end());
            r.reply(std::move(l));
        }));
        keep(bus.serve<msg::MarkRead>([this](const msg::MarkRead& q, sdk::Responder<msg::Done> r) {
            if (before_mark_read) before_mark_read(q.peer);
            for (auto& m : messages[q.peer]) m.read = true;
            r.reply({});
        }));
        keep(bus.serve<msg::ListContacts>([this](const msg::ListContacts&, sdk::Responder<msg::ContactList> r) {
            msg::ContactList l;
            for (const auto& [id, name] : contacts) l.contacts.push_back({id, name, true, blocked[id]});
            r.reply(std::move(l));
        }));
        keep(bus.serve<msg::SaveContact>([this](const msg::SaveContact& q, sdk::Responder<msg::Done> r) {
            contacts[q.id] = q.name;
            r.reply({});
        }));
        keep(bus.serve<msg::AcceptRequest>([](const msg::AcceptRequest&, sdk::Responder<msg::Done> r) {
            r.fail(sdk::ErrorCode::not_found, "no request from that ID");
        }));
        keep(bus.serve<msg::SetBlocked>([this](const msg::SetBlocked& q, sdk::Responder<msg::Done> r) {
            blocked[q.id] = q.blocked;
            r.reply({});
        }));
        keep(bus.serve<msg::SetDisappearing>([this](const msg::SetDisappearing& q, sdk::Responder<msg::Done> r) {
            disappearing[q.peer] = q.seconds;
            r.reply({});
        }));
        keep(bus.serve<msg::CreateGroup>([this](const msg::CreateGroup& q, sdk::Responder<msg::Group> r) {
            msg::Group g{group_id('e'), q.name, true, false, 1, {{veil_id('a'), true}}};
            for (const auto& m : q.members) g.members.push_back({m, false});
            groups.push_back(g);
            r.reply(g);
        }));
        keep(bus.serve<msg::ChangeGroup>([this](const msg::ChangeGroup& q, sdk::Responder<msg::Group> r) {
            changes.push_back(q);
            if (groups.empty() || q.group != groups[0].id) return r.fail(sdk::ErrorCode::not_found, "no group has the ID");
            r.reply(groups[0]);
        }));
        keep(bus.serve<msg::ListGroups>([this](const msg::ListGroups&, sdk::Responder<msg::GroupList> r) { r.reply({groups}); }));
        keep(bus.serve<msg::GetGroup>([this](const msg::GetGroup& q, sdk::Responder<msg::Group> r) {
            for (const auto& g : groups) {
                if (g.id == q.group) return r.reply(g);
            }
            r.fail(sdk::ErrorCode::not_found, "no group has the ID");
        }));
        keep(bus.serve<msg::ListDevices>([](const msg::ListDevices&, sdk::Responder<msg::DeviceList> r) {
            r.reply({{{std::string(64, 'd'), "laptop", true, false, 1000}}});
        }));
    }

    // An incoming message from `from`, stored and announced as the messenger would.
    msg::Message arrive(const std::string& from, const std::string& text) {
        msg::Message m = make(from, from, false, text);
        bus_.publish(msg::MessageAdded{m});
        return m;
    }

    std::map<std::string, std::vector<msg::Message>> messages;
    std::map<std::string, std::string> contacts;
    std::map<std::string, bool> blocked;
    std::map<std::string, std::uint32_t> disappearing;
    std::vector<msg::SendMessage> sent;
    std::vector<msg::Group> groups;
    std::vector<msg::ChangeGroup> changes;
    std::function<void(const std::string&)> before_mark_read;

private:
    msg::Message make(const std::string& peer, const std::string& from, bool outgoing, const std::string& text) {
        msg::Message m;
        char id[33];
        std::snprintf(id, sizeof id, "%032x", ++counter_);
        m.id = id;
        m.peer = peer;
        m.from = from;
        m.outgoing = outgoing;
        m.text = text;
        m.sent_at_ms = 1700000000000ull + counter_;
        m.received_at_ms = m.sent_at_ms;
        m.delivery = outgoing ? msg::Delivery::queued : msg::Delivery::received;
        messages[peer].push_back(m);
        return m;
    }
    void keep(sdk::Subscription s) { subs_.push_back(std::move(s)); }

    sdk::Bus& bus_;
    unsigned counter_ = 0;
    std::vector<sdk::Subscription> subs_;
};

// A non-blocking Unix-socket client; the test pumps the loop while waiting for its lines.
class SocketClient final {
public:
    explicit SocketClient(const std::filesystem::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    ~SocketClient() { ::close(fd_); }
    SocketClient(const SocketClient&) = delete;
    SocketClient& operator=(const SocketClient&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }
    // Writes what the socket takes now; returns the bytes written.
    std::size_t send_some(std::string_view bytes) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    // Writes everything, pumping the loop while the socket is full.
    void send_all(veil::test::TestLoop& loop, std::string bytes) {
        std::size_t off = 0;
        loop.run_until([&] {
            off += send_some(std::string_view(bytes).substr(off));
            return off == bytes.size();
        });
    }
    // Reads what is there; false once the peer closed.
    bool poll() {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                in_.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) eof_ = true;
            return !eof_;
        }
    }
    std::optional<std::string> line() {
        poll();
        const auto nl = in_.find('\n');
        if (nl == std::string::npos) return std::nullopt;
        std::string l = in_.substr(0, nl);
        in_.erase(0, nl + 1);
        return l;
    }
    // The next line as JSON (pumping the loop until it comes).
    json next(veil::test::TestLoop& loop) {
        std::optional<std::string> l;
        // run_until checks its condition once more at the end: fetch at most one line.
        loop.run_until([&] {
            if (!l) l = line();
            return l.has_value() || eof_;
        });
        if (!l) return json("<no line>");
        return json::parse(*l);
    }
    // Sends one line and returns the next line received.
    json call(veil::test::TestLoop& loop, const std::string& request) {
        send_all(loop, request + "\n");
        return next(loop);
    }
    // True once the server closed this connection (pumping the loop until it does).
    bool wait_closed(veil::test::TestLoop& loop) {
        loop.run_until([&] {
            poll();
            return eof_;
        });
        return eof_;
    }
    [[nodiscard]] std::size_t buffered() const { return in_.size(); }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
    std::string in_;
};

}  // namespace veil::rpc::test
