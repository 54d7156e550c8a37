#include "resident_commands.hpp"

#include "stdin_lines.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;

constexpr const char* kChatUsage = "chat ID";

// Ends `call` with exit 0 when the kernel stops (SIGINT/SIGTERM): a clean stop.
void finish_on_stop(sdk::Context& ctx, const sdk::CommandCall& call) {
    ctx.on<sdk::KernelStopping>([call](const sdk::KernelStopping&) { call.finish(sdk::exit_code::ok); });
}

void cmd_daemon(sdk::Context& ctx, Client& client, const sdk::CommandCall& call) {
    const auto& args = call.args();
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--passphrase-file" && i + 1 < args.size()) ++i;
        else if (!args[i].starts_with("--passphrase-file=")) return call.fail("usage: veil daemon");
    }
    finish_on_stop(ctx, call);
    start_resident(client, [&client, call] {
        call.out("veil daemon: " + client.account()->id().str() + " online; Ctrl-C stops\n");
    }, [call](const sdk::Error& e) { call.fail("veil daemon: " + e.message, sdk::exit_code::failure); });
}

struct ChatSession {
    sdk::CommandCall call;
    crypto::VeilId peer;
    std::unique_ptr<StdinLines> input;
    std::size_t sending = 0;  // lines handed to send() that are not queued yet
    bool eof = false;
};

std::string chat_line(const Client& client, const sm::Message& m, const crypto::VeilId& peer) {
    std::string who = m.outgoing ? "you" : client.contact(peer).value_or(ContactRecord{}).name;
    if (who.empty()) who = m.from;
    if (!m.outgoing && client.is_request(peer)) who = "[request] " + who;
    std::string text = m.text;
    if (m.attachment) text += (text.empty() ? "" : " ") + std::string("[file ") + m.attachment->file_name + "]";
    return who + ": " + text + "\n";
}

// Whether the chat prints `m`: incoming ones, and our own sent from another device (this one's
// lines are on screen).
bool chat_shows(const sm::Message& m, const crypto::VeilId& peer) {
    if (m.peer != peer.str()) return false;
    return !m.outgoing || m.delivery == sm::Delivery::sent;
}

// Before the chat ends: the messages held for a gap in their sender's numbers (sender_order.hpp)
// are printed now; saved, they would otherwise never reach this screen (issue 16).
void print_held(Client& client, const std::shared_ptr<ChatSession>& s) {
    for (const auto& m : client.release_held()) {
        if (chat_shows(m, s->peer)) s->call.out(chat_line(client, m, s->peer));
    }
}

// Once input ended and every typed line is queued: send what is queued, then end.
void end_chat_when_sent(Client& client, const std::shared_ptr<ChatSession>& s) {
    if (!s->eof || s->sending > 0) return;
    client.flush([&client, s] {
        print_held(client, s);
        s->call.finish(sdk::exit_code::ok);
    }, [&client, s](const sdk::Error& e) {
        print_held(client, s);
        s->call.fail("veil chat: " + e.message + "\nUnsent lines are queued: the next veil command sends them.",
                     sdk::exit_code::failure);
    });
}

void cmd_chat(sdk::Context& ctx, Client& client, const sdk::CommandCall& call) {
    std::vector<std::string> args;
    for (std::size_t i = 0; i < call.args().size(); ++i) {
        if (call.args()[i] == "--passphrase-file") ++i;
        else args.push_back(call.args()[i]);
    }
    if (args.size() != 1) return call.fail(std::string("usage: veil ") + kChatUsage);
    crypto::VeilId peer;
    try {
        peer = crypto::parse_veil_id(args[0]);
    } catch (const crypto::Error& e) {
        return call.fail(std::string("veil chat: unknown ID format: ") + e.what() +
                         " (a Veil ID is 05 followed by 64 hex characters)");
    }
    auto s = std::make_shared<ChatSession>(ChatSession{call, peer, nullptr});
    ctx.on<sdk::KernelStopping>([&client, s](const sdk::KernelStopping&) {
        if (s->call.finished()) return;
        print_held(client, s);
        s->call.finish(sdk::exit_code::ok);
    });
    ctx.on<sm::MessageAdded>([&client, s](const sm::MessageAdded& e) {
        if (chat_shows(e.message, s->peer)) s->call.out(chat_line(client, e.message, s->peer));
    });
    ctx.on<StdinLine>([&client, s](const StdinLine& line) {
        if (line.eof) {
            s->eof = true;
            return end_chat_when_sent(client, s);
        }
        if (line.text.empty()) return;
        ++s->sending;
        client.send(s->peer, line.text, "", false, "", [&client, s](const MessageRecord&) {
            --s->sending;
            end_chat_when_sent(client, s);
        }, [&client, s](const sdk::Error& e) {
            --s->sending;
            s->call.err("veil chat: not sent: " + e.message + "\n");
            end_chat_when_sent(client, s);
        });
    });
    start_resident(client, [&ctx, &client, s] {
        auto name = client.contact(s->peer).value_or(ContactRecord{}).name;
        s->call.err("chatting with " + (name.empty() ? s->peer.str() : name + " (" + s->peer.str() + ")") +
                    "; type a line and press Enter to send; Ctrl-D ends\n");
        s->input = std::make_unique<StdinLines>(ctx.bus());
    }, [call](const sdk::Error& e) { call.fail("veil chat: " + e.message, sdk::exit_code::failure); });
}

}  // namespace

void start_resident(Client& client, std::function<void()> online, Fail fail) {
    client.open([&client, online] {
        client.run();
        online();
    }, std::move(fail));
}

void add_resident_commands(sdk::Context& ctx, Client& client) {
    ctx.add_command({"daemon", "run this client until Ctrl-C: receive, send, serve frontends (web, rpc)", "daemon",
                     [&ctx, &client](sdk::CommandCall call) { cmd_daemon(ctx, client, call); }});
    ctx.add_command({"chat", "chat with one person: type lines to send, read theirs as they arrive", kChatUsage,
                     [&ctx, &client](sdk::CommandCall call) { cmd_chat(ctx, client, call); }});
}

}  // namespace veil::messenger
