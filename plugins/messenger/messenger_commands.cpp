#include "messenger_commands.hpp"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include "group_commands.hpp"
#include "progress_bar.hpp"
#include "qr.hpp"
#include "veil/sdk/attachment.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {

// Arguments meant for the storage plugin (it reads them from the same command line).
std::vector<std::string> own_args(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--passphrase-file") {
            ++i;
            continue;
        }
        if (args[i].starts_with("--passphrase-file=")) continue;
        out.push_back(args[i]);
    }
    return out;
}

Fail failer(const sdk::CommandCall& call, std::string what) {
    return [call, what = std::move(what)](const sdk::Error& e) {
        call.fail(what + ": " + e.message, sdk::exit_code::failure);
    };
}

namespace {

namespace st = sdk::storage;

constexpr const char* kSendUsage = "send ID|GROUP TEXT | send ID --file PATH [--keep-metadata] [--keep-name] [TEXT]";
constexpr const char* kReceiveUsage = "receive [--wait SECONDS] [--json] [--save-dir DIR]";
constexpr const char* kContactsUsage =
    "contacts [--json] | contacts add ID NAME | contacts rename ID NAME | contacts block ID | contacts unblock ID | "
    "contacts accept ID";
constexpr const char* kDisappearUsage = "disappear ID SECONDS|off";
constexpr const char* kMessagesUsage = "messages ID|GROUP [--json] [--limit N]";
constexpr std::size_t kAllMessages = 1'000'000;

std::string id_hex(const MessageId& id) { return wire::to_hex(id); }

// A publish that only a minority of the identity swarm's members took (the others did not
// answer): it stands, and is published again until most members hold it.
constexpr const char* kUnsettledNote =
    "some members of the identity's swarm did not answer; the device list is published again by the "
    "next command (send, receive) or the running daemon until most of them hold it\n";

// Exit code of `create-account` when the database already holds an identity (the config
// written for it is kept: it gives access to that identity again). `veil init` (plugins/setup)
// removes HOME/veil.toml only after exit 1.
constexpr int kExitHomeInUse = 3;

// ---- create-account: the second half of `veil init` (plugins/setup) ----
void create_device(Service& service, AccountStore& store, const sdk::CommandCall& call, bool restore) {
    auto fail = failer(call, "veil init");
    store.load_account([&service, &store, call, restore, fail](AccountPtr existing) {
        if (existing) {
            return call.fail("veil init: this HOME already holds the identity " + existing->id().str() +
                                 " (its config is in HOME/veil.toml again)",
                             kExitHomeInUse);
        }
        std::shared_ptr<crypto::Identity> identity;
        try {
            if (restore) {
                std::string phrase;
                std::getline(std::cin, phrase);
                auto secret = crypto::SecretBytes::copy_of(std::string_view(phrase));
                sodium_memzero(phrase.data(), phrase.size());
                identity = std::make_shared<crypto::Identity>(crypto::Identity::from_phrase(secret.str()));
            } else {
                identity = std::make_shared<crypto::Identity>(crypto::Identity::generate());
            }
        } catch (const crypto::Error& e) {
            return fail({sdk::ErrorCode::bad_input, std::string("the recovery phrase is not valid: ") + e.what()});
        }
        service.with_manifest([&service, &store, call, restore, fail, identity] {
            auto make = [&service, &store, call, restore, fail, identity](std::optional<crypto::DeviceList> list) {
                AccountPtr account;
                try {
                    account = std::make_shared<Account>(Account::create(std::move(*identity), list, now_ms()));
                } catch (const std::runtime_error& e) {  // e.g. the identity has as many devices as contacts reach
                    return fail({sdk::ErrorCode::refused, e.what()});
                }
                // Publish first: a device that others cannot reach is not saved.
                service.publish(account, [&store, call, restore, fail, account](Holders holders) {
                    if (!holders.settled()) call.err(std::string("veil init: note: ") + kUnsettledNote);
                    store.save_account(*account, {}, [call, restore, account] {
                        std::string out = "Your Veil ID: " + account->id().str() + "\n";
                        if (restore) {
                            out += "This device was added to the identity (device list version " +
                                   std::to_string(account->device_list().version()) + ").\n";
                        } else {
                            auto phrase = account->identity().recovery_phrase();
                            out += "Recovery phrase (shown once: write it down, it restores your identity):\n  ";
                            out += phrase.str();
                            out += "\n";
                        }
                        call.out(out);
                        call.finish(sdk::exit_code::ok);
                    }, fail);
                }, fail);
            };
            if (!restore) return make(std::nullopt);
            // Most members of the swarm must answer and the highest valid version wins: one stale
            // member alone could fork the list and make a revoked device active again. The new
            // device signs found+1 (Account::create). Only an identity for which EVERY member gave
            // a complete read and none holds a list starts a new chain (at the time in ms);
            // anything less fails here (Service::fetch_device_list).
            service.fetch_device_list(identity->veil_id(), [make](crypto::DeviceList list) { make(std::move(list)); },
                                      [make, fail](const sdk::Error& e) {
                                          if (e.code == sdk::ErrorCode::not_found) return make(std::nullopt);
                                          fail({e.code, "the identity's device list could not be read from enough of "
                                                        "its swarm (" + e.message + "): try again later"});
                                      }, Service::Answers::majority);
        }, fail);
    }, fail);
}

void cmd_create_account(Service& service, AccountStore& store, const sdk::CommandCall& call) {
    bool restore = false;
    for (const auto& a : own_args(call.args())) {
        if (a != "--restore") return call.fail("veil create-account: unexpected argument '" + a + "'\n" + "usage: veil create-account [--restore] [--passphrase-file F]");
        restore = true;
    }
    create_device(service, store, call, restore);
}

// The ID in `text`, or nullopt after failing the call (exit 2) in the user's words.
std::optional<crypto::VeilId> parse_id(const sdk::CommandCall& call, const std::string& what, const std::string& text) {
    try {
        return crypto::parse_veil_id(text);
    } catch (const crypto::Error& e) {
        call.fail(what + ": unknown ID format: " + e.what() + " (a Veil ID is 05 followed by 64 hex characters)");
        return std::nullopt;
    }
}

// Opens the client (account, contacts, messages) or fails the call saying why.
void with_client(Client& client, const sdk::CommandCall& call, const std::string& what, std::function<void()> then,
                 bool exclusive = true) {
    client.open(std::move(then), failer(call, what), exclusive);
}

void cmd_id(Client& client, const sdk::CommandCall& call) {
    if (!own_args(call.args()).empty()) return call.fail("usage: veil id");
    with_client(client, call, "veil id", [&client, call] {
        const auto id = client.account()->id().str();
        // Scripts read the bare ID; a person at a terminal also gets a QR code to scan.
        call.out(::isatty(STDOUT_FILENO) ? qr_code(id) + id + "\n" : id + "\n");
        call.finish(sdk::exit_code::ok);
    }, false);
}

// While a file uploads, a bar on a terminal's stderr (scripts, with stderr not a terminal, get
// none). Returns what keeps it drawing; dropping it stops.
std::shared_ptr<sdk::Subscription> upload_progress(sdk::Context& ctx, const sdk::CommandCall& call) {
    if (!::isatty(STDERR_FILENO)) return nullptr;
    return std::make_shared<sdk::Subscription>(
        ctx.bus().subscribe<sdk::attachment::TransferProgress>([call](const sdk::attachment::TransferProgress& p) {
            if (!p.upload) return;
            call.err("\r" + progress_bar(p.done_bytes, p.total_bytes));
            if (p.done_bytes >= p.total_bytes) call.err("\n");
        }));
}

void cmd_send(sdk::Context& ctx, Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    std::string file, text;
    bool keep_metadata = false, keep_name = false;
    std::vector<std::string> rest;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--file" && i + 1 < args.size()) file = args[++i];
        else if (args[i] == "--keep-metadata") keep_metadata = true;
        else if (args[i] == "--keep-name") keep_name = true;
        else rest.push_back(args[i]);
    }
    if (rest.empty() || rest.size() > 2 || (rest.size() == 1 && file.empty()) || ((keep_metadata || keep_name) && file.empty())) {
        return call.fail(std::string("usage: veil ") + kSendUsage);
    }
    if (looks_like_group_id(rest[0])) {
        if (!file.empty()) return call.fail("veil send: files to a group are not supported yet");
        return send_to_group(client, call, rest[0], rest[1]);
    }
    auto to = parse_id(call, "veil send", rest[0]);
    if (!to) return;
    if (rest.size() == 2) text = rest[1];
    auto progress = file.empty() ? nullptr : upload_progress(ctx, call);
    // The file's own name only on request: a phone's name (PXL_20240512_143211123.jpg) dates it.
    std::string name = keep_name ? std::filesystem::path(file).filename().string() : std::string();
    with_client(client, call, "veil send", [&client, call, to = *to, text, file, keep_metadata, name, progress] {
        client.send(to, text, file, keep_metadata, name, [&client, call, progress](const MessageRecord& r) mutable {
            progress.reset();
            if (r.message.attachment && !r.message.attachment->notice.empty())
                call.err("veil send: note: " + r.message.attachment->notice + "\n");
            client.flush([&client, call, r] {
                // A dropped message leaves the queue without stopping it: its record says why.
                for (const auto& m : client.messages(r.peer, kAllMessages)) {
                    if (m.message.id != r.message.id) continue;
                    if (m.delivery == DeliveryState::failed)
                        return call.fail("veil send: " + m.error + " (the message was not sent)", sdk::exit_code::failure);
                    if (m.delivery == DeliveryState::queued && !m.error.empty())  // it waits: say why
                        return call.fail("veil send: " + m.error +
                                             "\nThe message is queued: the next veil send or veil receive sends it.",
                                         sdk::exit_code::failure);
                }
                call.out("sent " + id_hex(r.message.id) + "\n");
                call.finish(sdk::exit_code::ok);
            }, [call](const sdk::Error& e) {
                call.fail("veil send: " + e.message + "\nThe message is queued: the next veil send or veil receive sends it.",
                          sdk::exit_code::failure);
            });
        }, failer(call, "veil send"));
    });
}

// `plain_path`: where this command wrote the file decrypted ("" when it did not).
nlohmann::json message_json(const Client& client, const MessageRecord& r, const std::string& plain_path) {
    const bool outgoing = r.from == client.account()->id();
    nlohmann::json j{{"from", r.from.str()}, {"peer", r.peer.str()}, {"text", r.message.text},
                     {"sent_at", r.message.sent_at_ms}, {"id", id_hex(r.message.id)}, {"outgoing", outgoing}};
    if (r.group) j["group"] = crypto::group_id_str(*r.group);
    else if (!outgoing && client.is_request(r.peer)) j["request"] = true;
    if (r.expires_at_ms) j["expires_at"] = r.expires_at_ms;
    if (outgoing) {
        static constexpr const char* kStates[] = {"", "queued", "sent", "failed", "received"};
        j["delivery"] = kStates[static_cast<int>(r.delivery)];
        // Why it waits (queued) or was given up (failed).
        bool undelivered = r.delivery == DeliveryState::queued || r.delivery == DeliveryState::failed;
        if (undelivered && !r.error.empty()) j["error"] = r.error;
    }
    if (r.message.attachment) {
        const auto& a = *r.message.attachment;
        j["attachment"] = {{"name", a.file_name}, {"type", a.mime_type}, {"size", a.size_bytes}};
        if (!plain_path.empty()) j["attachment"]["path"] = plain_path;
        j["attachment"]["saved"] = !r.saved_path.empty();  // kept, encrypted, in HOME
        if (r.retry_at_ms != 0) j["attachment"]["pending"] = true;  // tried again later
        if (!r.error.empty()) j["attachment"]["error"] = r.error;
    }
    return j;
}

std::string render(const Client& client, const MessageRecord& r, bool json, const std::string& plain_path = "") {
    if (json) return message_json(client, r, plain_path).dump() + "\n";
    const auto& self = client.account()->id();
    std::string who = r.from == self ? "you -> " + r.peer.str() : r.from.str();
    if (r.group) who = "[group " + crypto::group_id_str(*r.group) + "] " + r.from.str();
    else if (r.from != self && client.is_request(r.peer)) who = "[request] " + who;
    std::string line = who + ": " + r.message.text;
    if (r.message.attachment) {
        std::string where = !plain_path.empty()      ? " saved to " + plain_path
                            : !r.saved_path.empty() ? " kept encrypted: veil attachment save " + id_hex(r.message.id) + " PATH"
                                                    : "";
        line += (r.message.text.empty() ? "" : " ") + std::string("[file ") + r.message.attachment->file_name + where +
                (r.error.empty() ? "" : ": " + r.error) + "]";
    }
    return line + "\n";
}

struct ReceiveState {
    Client* client;
    Service* service;
    sdk::Context* ctx;
    sdk::CommandCall call;
    Fail fail;
    bool json = false;
    std::string save_dir{};  ///< --save-dir: each received file is written there decrypted
    std::uint64_t deadline_ms = 0;
    std::size_t printed = 0;
};

// Writes the files of `got` from `i` on decrypted under s->save_dir (paths[i] = where, "" when
// not downloaded or it failed: said on stderr), one at a time; then `then`.
void save_files(std::shared_ptr<ReceiveState> s, std::shared_ptr<std::vector<MessageRecord>> got,
                std::shared_ptr<std::vector<std::string>> paths, std::size_t i, std::function<void()> then) {
    if (i == got->size()) return then();
    const auto& r = (*got)[i];
    auto next = [s, got, paths, i, then] { save_files(s, got, paths, i + 1, then); };
    if (s->save_dir.empty() || r.saved_path.empty()) return next();
    s->client->open_file(id_hex(r.message.id), s->save_dir, "",
                         [paths, i, next](sdk::attachment::OpenedAttachment opened, const MessageRecord&) {
                             (*paths)[i] = opened.path;
                             next();
                         },
                         [s, next](const sdk::Error& e) {
                             s->call.err("veil receive: " + e.message + "\n");
                             next();
                         });
}

void receive_round(std::shared_ptr<ReceiveState> s, std::vector<proto::node::MessageItem> woken_with = {});

// Prints a round's messages; waits for more while none came and time is left, else finishes.
void after_round(std::shared_ptr<ReceiveState> s, const std::vector<MessageRecord>& got,
                 const std::vector<std::string>& paths) {
    for (std::size_t i = 0; i < got.size(); ++i) s->call.out(render(*s->client, got[i], s->json, paths[i]));
    s->printed += got.size();
    if (auto now = now_ms(); s->printed == 0 && now < s->deadline_ms) {
        auto left = static_cast<std::uint32_t>(std::min<std::uint64_t>(s->deadline_ms - now, 60'000));
        s->service->wait_inbox(s->client->account(), left, [s](std::vector<proto::node::MessageItem> items, bool complete) {
            // Part of the inbox only: the round fetches all of it.
            if (!complete) items.clear();
            receive_round(s, std::move(items));
        });
        return;
    }
    // Publishing when due (a one-time key was used) goes with the flush.
    s->client->flush([s] { s->call.finish(sdk::exit_code::ok); }, [s](const sdk::Error& e) {
        s->ctx->log().warn("queued messages not sent yet: {}", e.message);
        s->call.finish(sdk::exit_code::ok);
    });
}

// One round; `woken_with` is what the subscribe that woke it carried (empty: fetch the inbox).
void receive_round(std::shared_ptr<ReceiveState> s, std::vector<proto::node::MessageItem> woken_with) {
    s->client->receive_woken(std::move(woken_with), [s](std::vector<MessageRecord> received) {
        auto got = std::make_shared<std::vector<MessageRecord>>(std::move(received));
        auto paths = std::make_shared<std::vector<std::string>>(got->size());
        save_files(s, got, paths, 0, [s, got, paths] { after_round(s, *got, *paths); });
    }, s->fail);
}

void cmd_receive(sdk::Context& ctx, Service& service, Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    auto state =
        std::make_shared<ReceiveState>(ReceiveState{&client, &service, &ctx, call, failer(call, "veil receive")});
    std::uint64_t wait_s = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") {
            state->json = true;
        } else if (args[i] == "--save-dir" && i + 1 < args.size()) {
            state->save_dir = args[++i];
        } else if (args[i] == "--wait" && i + 1 < args.size()) {
            try {
                wait_s = std::stoull(args[++i]);
            } catch (const std::exception&) {
                return call.fail("veil receive: --wait needs a number of seconds");
            }
        } else {
            return call.fail(std::string("usage: veil ") + kReceiveUsage);
        }
    }
    with_client(client, call, "veil receive", [&service, &client, state, wait_s] {
        service.with_manifest([&client, state, wait_s] {
            state->deadline_ms = now_ms() + wait_s * 1000;
            // Our own current device list first: copies from a revoked device of ours are refused.
            // Earlier sends that did not finish go out first; if they still cannot, receiving goes on.
            // Files whose download failed before are tried again first; those now kept are
            // printed (again) with them.
            auto round = [&client, state] {
                client.retry_downloads(false, [state](std::vector<MessageRecord> saved) {
                    if (saved.empty()) return receive_round(state);
                    auto got = std::make_shared<std::vector<MessageRecord>>(std::move(saved));
                    auto paths = std::make_shared<std::vector<std::string>>(got->size());
                    save_files(state, got, paths, 0, [state, got, paths] {
                        for (std::size_t i = 0; i < got->size(); ++i)
                            state->call.out(render(*state->client, (*got)[i], state->json, (*paths)[i]));
                        receive_round(state);
                    });
                });
            };
            auto go = [&client, state, round] {
                client.flush(round, [state, round](const sdk::Error& e) {
                    state->ctx->log().warn("queued messages not sent yet: {}", e.message);
                    round();
                });
            };
            client.refresh_own_devices(go);
        }, state->fail);
    });
}

void print_contacts(const Client& client, const sdk::CommandCall& call, bool json) {
    std::string out;
    for (const auto& c : client.contacts()) {
        if (json) {
            nlohmann::json j{{"id", c.id.str()}, {"name", c.name}, {"accepted", c.accepted}, {"blocked", c.blocked},
                             {"request", !c.accepted}, {"disappear_after_s", c.disappear_after_s}};
            out += j.dump() + "\n";
            continue;
        }
        std::string state = c.blocked ? "blocked" : c.accepted ? "contact" : "request";
        out += c.id.str() + "  " + state + (c.name.empty() ? "" : "  " + c.name) +
               (c.disappear_after_s ? "  disappears after " + std::to_string(c.disappear_after_s) + " s" : "") + "\n";
    }
    call.out(out);
    call.finish(sdk::exit_code::ok);
}

void cmd_contacts(Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    const std::string usage = std::string("usage: veil ") + kContactsUsage;
    bool list = args.empty() || (args.size() == 1 && args[0] == "--json");
    if (list) {
        bool json = !args.empty();
        return with_client(client, call, "veil contacts", [&client, call, json] { print_contacts(client, call, json); },
                           false);
    }
    const auto& verb = args[0];
    bool named = verb == "add" || verb == "rename";
    bool plain = verb == "block" || verb == "unblock" || verb == "accept";
    if (!(named && args.size() == 3) && !(plain && args.size() == 2)) return call.fail(usage);
    auto id = parse_id(call, "veil contacts " + verb, args[1]);
    if (!id) return;
    auto fail = failer(call, "veil contacts " + verb);
    // Saved here; the change then goes to our other devices, if there are any.
    auto done = [&client, call] {
        if (!client.account()->has_other_devices()) return call.finish(sdk::exit_code::ok);
        client.flush([call] { call.finish(sdk::exit_code::ok); }, [call](const sdk::Error& e) {
            call.err("veil contacts: saved here; your other devices get it with your next command (" + e.message + ")\n");
            call.finish(sdk::exit_code::ok);
        });
    };
    with_client(client, call, "veil contacts", [&client, call, verb, id = *id, name = named ? args[2] : "", fail, done] {
        if (verb == "add") return client.save_contact(id, name, done, fail);
        if (verb == "rename") {
            if (!client.contact(id)) {
                return fail({sdk::ErrorCode::not_found, "no contact has the ID " + id.str() + " (add it first)"});
            }
            return client.save_contact(id, name, done, fail);
        }
        if (verb == "accept") return client.accept(id, done, fail);
        client.set_blocked(id, verb == "block", done, fail);
    });
}

void cmd_disappear(Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    if (args.size() != 2) return call.fail(std::string("usage: veil ") + kDisappearUsage);
    auto id = parse_id(call, "veil disappear", args[0]);
    if (!id) return;
    std::uint32_t seconds = 0;
    if (args[1] != "off") {
        try {
            std::size_t used = 0;
            auto v = std::stoul(args[1], &used);
            if (used != args[1].size() || v == 0 || v > kMaxDisappearS) throw std::out_of_range("range");
            seconds = static_cast<std::uint32_t>(v);
        } catch (const std::exception&) {
            return call.fail("veil disappear: SECONDS is a number from 1 to 1209600 (14 days), or off");
        }
    }
    auto fail = failer(call, "veil disappear");
    with_client(client, call, "veil disappear", [&client, call, id = *id, seconds, fail] {
        client.set_disappearing(id, seconds, [&client, call, seconds] {
            client.flush([call, seconds] {
                call.out(seconds ? "messages disappear " + std::to_string(seconds) + " s after they are sent or received\n"
                                 : "disappearing messages are off\n");
                call.finish(sdk::exit_code::ok);
            }, [call](const sdk::Error& e) {
                call.fail("veil disappear: set here; telling the peer failed (" + e.message + "); the next veil command retries",
                          sdk::exit_code::failure);
            });
        }, fail);
    });
}

void cmd_messages(Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    bool json = false;
    std::size_t limit = 200;
    std::optional<crypto::VeilId> id;
    std::optional<crypto::GroupId> group;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--limit" && i + 1 < args.size()) {
            try {
                limit = std::stoul(args[++i]);
            } catch (const std::exception&) {
                return call.fail("veil messages: --limit needs a number");
            }
        } else if (!id && !group && looks_like_group_id(args[i])) {
            try {
                group = crypto::parse_group_id(args[i]);
            } catch (const crypto::Error& e) {
                return call.fail(std::string("veil messages: unknown group ID format: ") + e.what());
            }
        } else if (!id && !group) {
            id = parse_id(call, "veil messages", args[i]);
            if (!id) return;
        } else {
            return call.fail(std::string("usage: veil ") + kMessagesUsage);
        }
    }
    if (!id && !group) return call.fail(std::string("usage: veil ") + kMessagesUsage);
    with_client(client, call, "veil messages", [&client, call, id, group, json, limit] {
        std::string out;
        for (const auto& r : group ? client.messages(*group, limit) : client.messages(*id, limit)) {
            out += render(client, r, json);
        }
        call.out(out);
        call.finish(sdk::exit_code::ok);
    }, false);
}
constexpr const char* kDevicesUsage = "devices [--json] | devices revoke DEVICE_KEY";

void list_devices(const AccountPtr& a, const sdk::CommandCall& call, bool json) {
    std::string out;
    for (const auto& e : a->device_list().entries()) {
        bool self = e.signing_key == a->device().signing_key();
        if (json) {
            nlohmann::json j{{"key", wire::to_hex(e.signing_key)}, {"added_ms", e.added_ms},
                             {"revoked_ms", e.revoked_ms}, {"this_device", self}};
            out += j.dump() + "\n";
        } else {
            out += wire::to_hex(e.signing_key) + (e.revoked() ? "  revoked" : "  active") +
                   (self ? "  (this device)" : "") + "\n";
        }
    }
    call.out(out);
    call.finish(sdk::exit_code::ok);
}

void cmd_devices(Service& service, AccountStore& store, Client& client, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    bool json = args.size() == 1 && args[0] == "--json";
    bool revoke = args.size() == 2 && args[0] == "revoke";
    if (!args.empty() && !json && !revoke) return call.fail(std::string("usage: veil ") + kDevicesUsage);
    crypto::PublicKey key{};
    if (revoke) {
        try {
            auto b = wire::from_hex(args[1]);
            if (b.size() != key.size()) throw wire::DecodeError("length");
            std::copy(b.begin(), b.end(), key.begin());
        } catch (const wire::DecodeError&) {
            return call.fail("veil devices revoke: DEVICE_KEY is the 64 hex characters that veil devices lists");
        }
    }
    auto fail = failer(call, "veil devices");
    with_client(client, call, "veil devices", [&service, &store, &client, call, json, revoke, key, fail] {
        auto account = client.account();
        service.with_manifest([&service, &store, call, json, revoke, key, fail, account] {
            // The current lists from the swarm: another device may have changed it, or signed a
            // fork of it (each is joined: issue 14).
            service.fetch_device_lists(account->id(), [&service, &store, call, json, revoke, key, fail, account](
                                                          std::vector<crypto::DeviceList> lists) {
                for (const auto& l : lists) account->adopt_device_list(l);
                if (!revoke) {
                    return store.save_account(*account, {}, [account, call, json] { list_devices(account, call, json); },
                                              fail);
                }
                // A retry after a publish that too few members took adopts that list, the device
                // already revoked in it: publish it again instead of failing.
                const auto* listed = account->device_list().find(key);
                if (!listed || !listed->revoked()) {
                    try {
                        account->revoke_device(key, now_ms());
                    } catch (const std::exception& e) {
                        return fail({sdk::ErrorCode::bad_input, e.what()});
                    }
                }
                service.publish(account, [&store, call, fail, account](Holders holders) {
                    // Saved either way (still due: retried). A revocation that a minority of the
                    // members holds is not done: one lying member may be all that "took" it.
                    store.save_account(*account, {}, [call, account, holders] {
                        auto version = std::to_string(account->device_list().version());
                        if (!holders.settled()) {
                            return call.fail("veil devices: revocation pending: " + std::to_string(holders.held) + " of " +
                                                 std::to_string(holders.members) +
                                                 " members hold it" +
                                                 (holders.read_complete ? "" : " (too few members gave a complete read of the lists)") +
                                                 "; it is retried by the next command (send, receive) "
                                                 "or the running daemon (device list version " + version + ")",
                                             sdk::exit_code::failure);
                        }
                        call.out("revoked; device list version " + version + "\n");
                        call.finish(sdk::exit_code::ok);
                    }, fail);
                }, fail);
            }, fail);
        }, fail);
    });
}

}  // namespace

void add_messenger_commands(sdk::Context& ctx, Service& service, AccountStore& store, Client& client) {
    // The second half of `veil init` (plugins/setup), which runs it with HOME's new config.
    ctx.add_command({"create-account", "make the identity and this device in a HOME that `veil init` configured",
                     "create-account [--restore] [--passphrase-file F]",
                     [&service, &store](sdk::CommandCall call) { cmd_create_account(service, store, call); }});
    ctx.add_command({"id", "print your Veil ID (and a QR code of it on a terminal)", "id",
                     [&client](sdk::CommandCall call) { cmd_id(client, call); }});
    ctx.add_command({"devices", "list the devices of your identity, or revoke one", kDevicesUsage,
                     [&service, &store, &client](sdk::CommandCall call) { cmd_devices(service, store, client, call); }});
    ctx.add_command({"send", "send a message (or a file); exits 0 once it is stored in every recipient swarm", kSendUsage,
                     [&ctx, &client](sdk::CommandCall call) { cmd_send(ctx, client, call); }});
    ctx.add_command({"receive", "fetch, decrypt and print new messages (then delete them from the swarm)",
                     kReceiveUsage,
                     [&ctx, &service, &client](sdk::CommandCall call) { cmd_receive(ctx, service, client, call); }});
    ctx.add_command({"contacts", "list contacts and message requests; add, rename, block, unblock, accept",
                     kContactsUsage, [&client](sdk::CommandCall call) { cmd_contacts(client, call); }});
    ctx.add_command({"disappear", "set a conversation's disappearing-messages timer (both sides)", kDisappearUsage,
                     [&client](sdk::CommandCall call) { cmd_disappear(client, call); }});
    add_group_commands(ctx, client);
    ctx.add_command({"messages", "print the stored messages of one conversation", kMessagesUsage,
                     [&client](sdk::CommandCall call) { cmd_messages(client, call); }});
}

}  // namespace veil::messenger
