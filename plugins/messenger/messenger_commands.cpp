#include "messenger_commands.hpp"

#include <sodium.h>

#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "init_home.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

namespace st = sdk::storage;

constexpr const char* kSendUsage = "send ID TEXT";
constexpr const char* kReceiveUsage = "receive [--wait SECONDS] [--json]";

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
    return [call, what = std::move(what)](const std::string& m) { call.fail(what + ": " + m, sdk::exit_code::failure); };
}

// Loads the account or fails the call saying how to make one.
void with_account(Service& service, const sdk::CommandCall& call, const std::string& what,
                  std::function<void(AccountPtr)> then) {
    service.load([call, what, then = std::move(then)](AccountPtr a) {
        if (!a) return call.fail(what + ": this HOME has no identity yet: run veil init --network FILE", sdk::exit_code::failure);
        then(std::move(a));
    }, failer(call, what));
}

// Publishes again when due (a one-time key was used, or a week passed), then runs then().
void publish_if_due(Service& service, const AccountPtr& account, const Fail& fail, std::function<void()> then) {
    if (!account->needs_publish(now_ms())) return then();
    service.publish(account, [&service, account, fail, then] { service.save(*account, {}, then, fail); }, fail);
}

std::string id_hex(const MessageId& id) { return wire::to_hex(id); }

// ---- init --create-device (second half; see init_home.hpp) ----
void create_device(Service& service, const sdk::CommandCall& call, bool restore) {
    auto fail = failer(call, "veil init");
    service.load([&service, call, restore, fail](AccountPtr existing) {
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
            return fail(std::string("the recovery phrase is not valid: ") + e.what());
        }
        service.with_manifest([&service, call, restore, fail, identity] {
            auto make = [&service, call, restore, fail, identity](std::optional<crypto::DeviceList> list) {
                auto account = std::make_shared<Account>(Account::create(std::move(*identity), list, now_ms()));
                // Publish first: a device that others cannot reach is not saved.
                service.publish(account, [&service, call, restore, fail, account] {
                    service.save(*account, {}, [call, restore, account] {
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
            service.fetch_person(identity->veil_id(), [make](PersonKeys keys) { make(std::move(keys.list)); },
                                 [make](const std::string&) { make(std::nullopt); });
        }, fail);
    }, fail);
}

void cmd_init(sdk::Context& ctx, Service& service, sdk::CommandCall call) {
    auto args = call.args();
    bool create = false, restore = false;
    for (const auto& a : args) {
        create = create || a == "--create-device";
        restore = restore || a == "--restore";
    }
    if (!create) return init_home(ctx, std::move(call));
    create_device(service, call, restore);
}

void cmd_id(Service& service, const sdk::CommandCall& call) {
    if (!own_args(call.args()).empty()) return call.fail("usage: veil id");
    with_account(service, call, "veil id", [call](AccountPtr a) {
        call.out(a->id().str() + "\n");
        call.finish(sdk::exit_code::ok);
    });
}

void cmd_send(Service& service, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    if (args.size() != 2) return call.fail(std::string("usage: veil ") + kSendUsage);
    crypto::VeilId to;
    try {
        to = crypto::parse_veil_id(args[0]);
    } catch (const crypto::Error& e) {
        return call.fail(std::string("veil send: unknown ID format: ") + e.what() +
                         " (a Veil ID is 05 followed by 64 hex characters)");
    }
    ChatMessage message;
    try {
        message = make_text(args[1], now_ms());
    } catch (const std::invalid_argument& e) {
        return call.fail(std::string("veil send: ") + e.what());
    }
    auto fail = [call](const std::string& m) {
        call.fail("veil send: " + m + "\nThe message is queued: the next veil send or veil receive sends it.",
                  sdk::exit_code::failure);
    };
    with_account(service, call, "veil send", [&service, call, to, message, fail](AccountPtr account) {
        // Queued first: from here on the message is never lost, and it goes out exactly once.
        service.enqueue(to, message, [&service, call, message, fail, account] {
            service.with_manifest([&service, call, message, fail, account] {
                service.flush_outbox([&service, call, message, fail, account] {
                    service.process_queue(account, [&service, call, message, fail, account] {
                        publish_if_due(service, account, fail, [call, message] {
                            call.out("sent " + id_hex(message.id) + "\n");
                            call.finish(sdk::exit_code::ok);
                        });
                    }, fail);
                }, fail);
            }, fail);
        }, [call](const std::string& m) { call.fail("veil send: " + m, sdk::exit_code::failure); });
    });
}

std::string render(const MessageRecord& r, const crypto::VeilId& self, bool json) {
    if (json) {
        nlohmann::json j{{"from", r.from.str()},       {"peer", r.peer.str()},
                         {"text", r.message.text},     {"sent_at", r.message.sent_at_ms},
                         {"id", id_hex(r.message.id)}, {"outgoing", r.from == self}};
        return j.dump() + "\n";
    }
    std::string who = r.from == self ? "you -> " + r.peer.str() : r.from.str();
    return who + ": " + r.message.text + "\n";
}

struct ReceiveState {
    Service* service;
    sdk::Context* ctx;
    sdk::CommandCall call;
    AccountPtr account;
    Fail fail;
    bool json = false;
    std::uint64_t deadline_ms = 0;
    std::size_t printed = 0;
};

void receive_round(std::shared_ptr<ReceiveState> s) {
    s->service->fetch_inbox(s->account, [s](std::vector<node::MessageItem> items) {
        std::vector<st::BatchOp> ops;
        std::vector<node::Hash> processed;
        std::vector<MessageRecord> got;
        for (const auto& item : items) {
            processed.push_back(item.hash);
            try {
                if (auto r = s->account->open(item.data, now_ms())) {
                    ops.push_back(record_op(*r));
                    got.push_back(std::move(*r));
                }
            } catch (const std::exception& e) {
                s->ctx->log().warn("an inbox message could not be opened and was dropped ({})", e.what());
            }
        }
        // In the order they were written (the swarm returns them in arrival order).
        std::stable_sort(got.begin(), got.end(), [](const MessageRecord& a, const MessageRecord& b) {
            return a.message.sent_at_ms < b.message.sent_at_ms;
        });
        auto finish_round = [s, got] {
            for (const auto& r : got) s->call.out(render(r, s->account->id(), s->json));
            s->printed += got.size();
            if (auto now = now_ms(); s->printed == 0 && now < s->deadline_ms) {
                auto left = static_cast<std::uint32_t>(std::min<std::uint64_t>(s->deadline_ms - now, 60'000));
                s->service->wait_inbox(s->account, left, [s] { receive_round(s); });
                return;
            }
            publish_if_due(*s->service, s->account, s->fail, [s] { s->call.finish(sdk::exit_code::ok); });
        };
        if (processed.empty()) return finish_round();
        // Saved first, then deleted from the swarm: a crash in between re-fetches messages
        // that then fail to open (their keys are spent) and are deleted.
        s->service->save(*s->account, std::move(ops), [s, processed, finish_round]() mutable {
            s->service->delete_inbox(s->account, std::move(processed), finish_round, s->fail);
        }, s->fail);
    }, s->fail);
}

void cmd_receive(sdk::Context& ctx, Service& service, const sdk::CommandCall& call) {
    auto args = own_args(call.args());
    auto state = std::make_shared<ReceiveState>(ReceiveState{&service, &ctx, call, nullptr, failer(call, "veil receive")});
    std::uint64_t wait_s = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") {
            state->json = true;
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
    with_account(service, call, "veil receive", [&service, state, wait_s](AccountPtr account) {
        state->account = std::move(account);
        service.with_manifest([&service, state, wait_s] {
            state->deadline_ms = now_ms() + wait_s * 1000;
            // Our own current device list first: copies from a revoked device of ours are refused.
            // Earlier sends that did not finish go out first; if they still cannot, receiving goes on.
            auto go = [&service, state] {
                auto then = [state] { receive_round(state); };
                auto later = [state, then](const std::string& m) {
                    state->ctx->log().warn("queued messages not sent yet: {}", m);
                    then();
                };
                service.flush_outbox([&service, state, then, later] { service.process_queue(state->account, then, later); },
                                     later);
            };
            service.fetch_person(state->account->id(), [state, go](PersonKeys own) {
                state->account->adopt_device_list(own.list);
                go();
            }, [go](const std::string&) { go(); });
        }, state->fail);
    });
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

void cmd_devices(Service& service, const sdk::CommandCall& call) {
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
    with_account(service, call, "veil devices", [&service, call, json, revoke, key, fail](AccountPtr account) {
        service.with_manifest([&service, call, json, revoke, key, fail, account] {
            // The current list from the swarm: another device may have changed it.
            service.fetch_person(account->id(), [&service, call, json, revoke, key, fail, account](PersonKeys own) {
                account->adopt_device_list(own.list);
                if (!revoke) {
                    return service.save(*account, {}, [account, call, json] { list_devices(account, call, json); }, fail);
                }
                try {
                    account->revoke_device(key, now_ms());
                } catch (const std::exception& e) {
                    return fail(e.what());
                }
                service.publish(account, [&service, call, fail, account] {
                    service.save(*account, {}, [call, account] {
                        call.out("revoked; device list version " + std::to_string(account->device_list().version()) + "\n");
                        call.finish(sdk::exit_code::ok);
                    }, fail);
                }, fail);
            }, fail);
        }, fail);
    });
}

}  // namespace

void add_messenger_commands(sdk::Context& ctx, Service& service) {
    ctx.add_command({"init", "make a new identity (or, with --restore, a new device of yours) in HOME",
                     "init [--home HOME] --network FILE [--restore] [--passphrase-file F]",
                     [&ctx, &service](sdk::CommandCall call) { cmd_init(ctx, service, std::move(call)); }});
    ctx.add_command({"id", "print your Veil ID", "id", [&service](sdk::CommandCall call) { cmd_id(service, call); }});
    ctx.add_command({"devices", "list the devices of your identity, or revoke one", kDevicesUsage,
                     [&service](sdk::CommandCall call) { cmd_devices(service, call); }});
    ctx.add_command({"send", "send a message; exits 0 once it is stored in every recipient swarm", kSendUsage,
                     [&service](sdk::CommandCall call) { cmd_send(service, call); }});
    ctx.add_command({"receive", "fetch, decrypt and print new messages (then delete them from the swarm)",
                     kReceiveUsage, [&ctx, &service](sdk::CommandCall call) { cmd_receive(ctx, service, call); }});
}

}  // namespace veil::messenger
