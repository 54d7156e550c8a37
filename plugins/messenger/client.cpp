#include "client.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

namespace st = sdk::storage;
namespace sm = sdk::messenger;

constexpr std::uint32_t kStorageTimeoutMs = 30'000;
constexpr std::uint32_t kTransferTimeoutMs = 180'000;
constexpr std::uint64_t kRetryMaxMs = 30'000;
constexpr std::size_t kScanAll = 1'000'000;
constexpr std::size_t kMaxSummaryTextBytes = 200;

std::string hex(const MessageId& id) { return wire::to_hex(id); }

std::uint64_t expiry_of(std::uint32_t disappear_after_s, std::uint64_t from_ms) {
    return disappear_after_s == 0 ? 0 : from_ms + std::uint64_t{disappear_after_s} * 1000;
}

sm::Delivery delivery_view(DeliveryState d) {
    switch (d) {
        case DeliveryState::queued: return sm::Delivery::queued;
        case DeliveryState::sent: return sm::Delivery::sent;
        case DeliveryState::failed: return sm::Delivery::failed;
        case DeliveryState::received: break;
    }
    return sm::Delivery::received;
}

}  // namespace

/// Callers of flush(): the ones the running flush will answer, and the ones after it.
struct Client::Waiters {
    using Pair = std::pair<std::function<void()>, Fail>;
    bool running = false;
    bool again = false;
    std::vector<Pair> current, next;
    std::vector<std::string> keys;  // records queued when the running flush began
};

Client::Client(sdk::Context& ctx, Service& service) : ctx_(ctx), service_(service), flush_(std::make_unique<Waiters>()) {
    service_.on_dropped([this](const crypto::VeilId& to, const MessageId& id, const std::string& why) {
        mark_dropped(to, id, why);
    });
}

Client::~Client() {
    service_.on_dropped(nullptr);
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Client::write(std::vector<st::BatchOp> ops, std::function<void()> done, Fail fail) {
    if (ops.empty()) return done();
    st::Batch b{std::move(ops)};
    bool queued = ctx_.bus().request<st::Batch>(std::move(b), kStorageTimeoutMs, [done, fail](sdk::Result<st::Done> r) {
        if (!r) return fail("cannot write the database: " + r.error().describe());
        done();
    });
    if (!queued) fail("cannot write the database: the bus is closed");
}

void Client::load_prefix(std::string_view prefix, std::function<void(std::vector<st::Entry>)> done, Fail fail) {
    st::Scan q{std::string(kStorageNs), std::string(prefix), kScanAll};
    bool queued = ctx_.bus().request<st::Scan>(std::move(q), kStorageTimeoutMs, [done, fail](sdk::Result<st::ScanReply> r) {
        if (!r) return fail("cannot read the database: " + r.error().describe());
        done(std::move(r.value().entries));
    });
    if (!queued) fail("cannot read the database: the bus is closed");
}

void Client::open(std::function<void()> done, Fail fail, bool exclusive) {
    service_.load([this, done, fail, exclusive](AccountPtr a) {
        if (!a) return fail("this HOME has no identity yet: run veil init --network FILE");
        // One process at a time owns a HOME's ratchet state: a second writer would fork it.
        auto lock_path = ctx_.home_dir() / "messenger.lock";
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        exclusive_ = lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0;
        if (!exclusive_ && exclusive) {
            return fail("another veil process (a daemon or chat?) is using this HOME; stop it first");
        }
        load_contacts_and_messages(std::move(a), done, fail);
    }, fail);
}

void Client::load_contacts(std::function<void()> done, Fail fail) {
    load_prefix(kContactPrefix, [this, done](std::vector<st::Entry> contacts) {
        contacts_.clear();
        for (const auto& e : contacts) {
            try {
                auto c = decode_contact(e.value);
                contacts_[c.id] = c;
            } catch (const wire::DecodeError&) {
                ctx_.log().warn("a damaged contact entry was skipped");
            }
        }
        done();
    }, fail);
}

void Client::reload_after_failed_save(std::function<void()> then) {
    // The round already moved the ratchets, seen ids and contacts in memory: back to what the
    // database holds, so the next round opens the re-fetched envelopes again.
    auto warn_then = [this, then](const std::string& m) {
        ctx_.log().warn("could not reload the account after a failed save: {}", m);
        then();
    };
    service_.load([this, then, warn_then](AccountPtr fresh) {
        if (!fresh) return warn_then("the account is gone from the database");
        *account_ = std::move(*fresh);  // in place: a flush holding the pointer sees it too
        load_contacts(then, warn_then);
    }, warn_then);
}

void Client::load_contacts_and_messages(AccountPtr a, std::function<void()> done, Fail fail) {
    account_ = std::move(a);
    load_contacts([this, done, fail] {
        load_prefix(kMessagePrefix, [this, done](std::vector<st::Entry> msgs) {
            for (const auto& e : msgs) {
                try {
                    messages_[e.key] = decode_record(e.value);
                } catch (const wire::DecodeError&) {
                    ctx_.log().warn("a damaged message entry was skipped");
                }
            }
            purge_expired();
            done();
        }, fail);
    }, fail);
}

// ---- sending ----

void Client::send(const crypto::VeilId& to, std::string text, std::string file_path,
                  std::function<void(const MessageRecord&)> queued, Fail fail) {
    if (to == account_->id()) return fail("cannot send a message to yourself");
    ChatMessage m;
    try {
        m = make_text(std::move(text), now_ms());
    } catch (const std::invalid_argument& e) {
        return fail(e.what());
    }
    if (file_path.empty()) {
        if (m.text.empty()) return fail("the message is empty");
        return enqueue(to, std::move(m), std::move(queued), std::move(fail));
    }
    m.kind = ChatKind::attachment;
    sdk::attachment::UploadAttachment up;
    std::error_code ec;
    up.path = std::filesystem::absolute(file_path, ec).string();
    if (ec) return fail("cannot read " + file_path + ": " + ec.message());
    up.transfer_id = hex(m.id);
    bool asked = ctx_.bus().request<sdk::attachment::UploadAttachment>(
        std::move(up), kTransferTimeoutMs,
        [this, to, m, queued, fail](sdk::Result<sdk::attachment::AttachmentRef> r) mutable {
            if (!r && r.error().code == sdk::ErrorCode::no_handler) return fail(std::string(kNoAttachments));
            if (!r) return fail("the file was not sent: " + r.error().message);
            m.attachment = std::move(r).value();
            enqueue(to, std::move(m), queued, fail);
        });
    if (!asked) fail("the bus is closed");
}

void Client::enqueue(const crypto::VeilId& to, ChatMessage message, std::function<void(const MessageRecord&)> queued,
                     Fail fail) {
    auto now = now_ms();
    auto contact = contacts_.count(to) ? contacts_[to] : ContactRecord{to, "", false, false, 0};
    message.disappear_after_s = contact.disappear_after_s;
    MessageRecord r;
    r.peer = to;
    r.from = account_->id();
    r.message = message;
    r.delivery = DeliveryState::queued;
    r.read = true;
    r.received_at_ms = now;
    r.expires_at_ms = expiry_of(message.disappear_after_s, now);
    // Writing to someone accepts their request (and makes them known).
    bool accepted_now = !contact.accepted;
    contact.accepted = true;
    std::vector<st::BatchOp> ops{queued_op(to, message)};
    if (message.kind != ChatKind::timer) ops.push_back(record_op(r));
    if (accepted_now) ops.push_back(contact_op(contact));
    // Queued first: from here on the message is never lost, and it goes out exactly once.
    write(std::move(ops), [this, r, contact, accepted_now, queued] {
        if (accepted_now) {
            contacts_[contact.id] = contact;
            ctx_.bus().publish(sm::ConversationUpdated{conversation(contact.id)});
        }
        if (r.message.kind != ChatKind::timer) put_message(r, true);
        auto then = [this, r, queued] {
            queued(r);
            if (resident_) flush([] {}, [](const std::string&) {});
        };
        if (accepted_now) return after_accept(contact.id, then);
        then();
    }, fail);
}

void Client::flush(std::function<void()> done, Fail fail) {
    auto& w = *flush_;
    if (w.running) {
        w.next.emplace_back(std::move(done), std::move(fail));
        w.again = true;
        return;
    }
    w.current.emplace_back(std::move(done), std::move(fail));
    flush_now();
}

void Client::flush_now() {
    auto& w = *flush_;
    w.running = true;
    w.again = false;
    w.keys.clear();
    for (const auto& [k, r] : messages_) {
        if (r.delivery == DeliveryState::queued) w.keys.push_back(k);
    }
    auto fail = [this](const std::string& m) { flush_finished(&m); };
    auto account = account_;
    service_.with_manifest([this, account, fail] {
        service_.flush_outbox([this, account, fail] {
            service_.process_queue(account, [this, account, fail] {
                if (!account->needs_publish(now_ms())) return flush_finished(nullptr);
                service_.publish(account, [this, account, fail] {
                    service_.save(*account, {}, [this] { flush_finished(nullptr); }, fail);
                }, fail);
            }, fail);
        }, fail);
    }, fail);
}

void Client::flush_finished(const std::string* error) {
    auto& w = *flush_;
    if (!error) {
        // Everything queued when this flush began is now in every recipient swarm.
        std::vector<st::BatchOp> ops;
        std::vector<MessageRecord> sent;
        for (const auto& k : w.keys) {
            auto* r = find(k);
            if (!r || r->delivery != DeliveryState::queued) continue;
            r->delivery = DeliveryState::sent;
            ops.push_back(record_op(*r));
            sent.push_back(*r);
        }
        write(std::move(ops), [this, sent] {
            for (const auto& r : sent) ctx_.bus().publish(sm::MessageUpdated{view(r)});
        }, [this](const std::string& m) { ctx_.log().warn("{}", m); });
        retry_ms_ = 0;
    }
    auto callers = std::move(w.current);
    w.current.clear();
    w.running = false;
    for (auto& [done, fail] : callers) error ? fail(*error) : done();
    if (!w.next.empty() || w.again) {
        w.current = std::move(w.next);
        w.next.clear();
        return flush_now();
    }
    if (error && resident_) {
        ctx_.log().warn("sending later: {}", *error);
        retry_ms_ = std::min(kRetryMaxMs, retry_ms_ == 0 ? 1000 : retry_ms_ * 2);
        retry_timer_->start(retry_ms_, 0, [this] { flush([] {}, [](const std::string&) {}); });
    }
}

void Client::mark_dropped(const crypto::VeilId& to, const MessageId& id, const std::string& why) {
    for (auto& [k, r] : messages_) {
        if (r.peer != to || r.message.id != id || r.delivery != DeliveryState::queued) continue;
        r.delivery = DeliveryState::failed;
        r.error = why;
        auto copy = r;
        write({record_op(copy)}, [this, copy] { ctx_.bus().publish(sm::MessageUpdated{view(copy)}); },
              [this](const std::string& m) { ctx_.log().warn("{}", m); });
        return;
    }
}

// ---- receiving ----

// Decides what one opened message does here: contacts, requests, blocking, timers.
void Client::apply_incoming(MessageRecord& r, std::vector<st::BatchOp>& ops, std::vector<crypto::VeilId>& changed,
                            bool& keep) {
    auto now = now_ms();
    bool own = r.from == account_->id();
    if (r.message.kind == ChatKind::contact) {
        keep = false;
        if (!own) return;  // only our own devices may change our contacts
        ContactRecord c{r.peer, r.message.text, (r.message.contact_flags & kContactAccepted) != 0,
                        (r.message.contact_flags & kContactBlocked) != 0, r.message.disappear_after_s};
        contacts_[c.id] = c;
        ops.push_back(contact_op(c));
        changed.push_back(c.id);
        return;
    }
    auto it = contacts_.find(r.peer);
    ContactRecord c = it != contacts_.end() ? it->second : ContactRecord{r.peer, "", own, false, 0};
    auto before = c;
    keep = true;
    if (!own && c.blocked) {
        keep = false;  // dropped on arrival; deleted from the swarm with the others
        return;
    }
    if (own) c.accepted = true;  // we wrote to them from another device
    c.disappear_after_s = r.message.disappear_after_s;  // the sender's setting is the conversation's
    if (r.message.kind == ChatKind::timer) keep = false;
    if (it == contacts_.end() || !(c == before)) {
        contacts_[c.id] = c;
        ops.push_back(contact_op(c));
        changed.push_back(c.id);
    }
    r.delivery = own ? DeliveryState::sent : DeliveryState::received;
    r.read = own;
    r.received_at_ms = now;
    r.expires_at_ms = expiry_of(r.message.disappear_after_s, now);
}

void Client::receive_once(std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    auto account = account_;
    service_.fetch_inbox(account, [this, account, done, fail](std::vector<proto::node::MessageItem> items) {
        auto opened = std::make_shared<std::vector<Opened>>();
        std::vector<proto::node::Hash> processed;
        for (const auto& item : items) {
            processed.push_back(item.hash);
            try {
                Opened o;
                auto r = account->open(item.data, now_ms(), &o.device);
                if (!r) continue;
                o.record = std::move(*r);
                opened->push_back(std::move(o));
            } catch (const std::exception& e) {
                ctx_.log().warn("an inbox message could not be opened and was dropped ({})", e.what());
            }
        }
        if (processed.empty()) return done({});
        check_devices(opened, [this, account, opened, processed, done, fail]() mutable {
            store_received(account, std::move(*opened), std::move(processed), done, fail);
        });
    }, fail);
}

// A peer's message counts only if its device is active in the peer's current device list (a
// revoked device still holds a valid certificate). Lists are fetched for devices not seen yet.
void Client::check_devices(std::shared_ptr<std::vector<Opened>> opened, std::function<void()> then) {
    std::vector<crypto::VeilId> unknown;
    for (const auto& o : *opened) {
        if (o.record.from == account_->id()) continue;  // own devices: checked by Account::open
        auto it = peer_lists_.find(o.record.from);
        if ((it == peer_lists_.end() || !it->second.is_active(o.device)) &&
            std::find(unknown.begin(), unknown.end(), o.record.from) == unknown.end()) {
            unknown.push_back(o.record.from);
        }
    }
    // Senders whose list could not be read this round (an older cached one may lack the device).
    auto unread = std::make_shared<std::vector<crypto::VeilId>>();
    auto filter = [this, opened, then, unread] {
        std::erase_if(*opened, [this, unread](const Opened& o) {
            if (o.record.from == account_->id()) return false;
            auto it = peer_lists_.find(o.record.from);
            // Unverifiable now (the network failed): keep it; the certificate is the identity's.
            if (it == peer_lists_.end()) return false;
            if (std::find(unread->begin(), unread->end(), o.record.from) != unread->end()) return false;
            if (it->second.is_active(o.device)) return false;
            ctx_.log().warn("a message from a device its owner does not list (revoked?) was dropped");
            return true;
        });
        then();
    };
    if (unknown.empty()) return filter();
    auto left = std::make_shared<std::size_t>(unknown.size());
    for (const auto& who : unknown) {
        auto one_done = [left, filter] {
            if (--*left == 0) filter();
        };
        service_.fetch_person(who, [this, who, one_done](PersonKeys keys) {
            peer_lists_.insert_or_assign(who, std::move(keys.list));
            one_done();
        }, [this, who, unread, one_done](const std::string& m) {
            ctx_.log().warn("a sender's device list could not be read: {}", m);
            unread->push_back(who);
            one_done();
        });
    }
}

void Client::store_received(const AccountPtr& account, std::vector<Opened> opened, std::vector<proto::node::Hash> processed,
                            std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    std::vector<st::BatchOp> ops;
    std::vector<MessageRecord> got;
    std::vector<crypto::VeilId> changed;
    std::vector<std::string> seen_keys;
    for (auto& o : opened) {
        bool stored = o.record.message.kind == ChatKind::text || o.record.message.kind == ChatKind::attachment;
        if (stored) {
            // The key has no sender: a peer reusing one of our ids and times would overwrite our record.
            auto key = record_key(o.record);
            if (find(key) || std::find(seen_keys.begin(), seen_keys.end(), key) != seen_keys.end()) {
                ctx_.log().warn("a message whose id and time are already stored was dropped");
                continue;
            }
            seen_keys.push_back(std::move(key));
        }
        bool keep = false;
        apply_incoming(o.record, ops, changed, keep);
        if (!keep) continue;
        // A request's files wait for acceptance (no disk filling, no online tracking by strangers).
        if (o.record.message.kind == ChatKind::attachment && is_request(o.record.peer)) {
            o.record.error = std::string(kNotFetched);
        }
        ops.push_back(record_op(o.record));
        got.push_back(std::move(o.record));
    }
    // In the order they were written (the swarm returns them in arrival order).
    std::stable_sort(got.begin(), got.end(), [](const MessageRecord& a, const MessageRecord& b) {
        return a.message.sent_at_ms < b.message.sent_at_ms;
    });
    // Saved first, then deleted from the swarm: a crash in between re-fetches messages
    // that then fail to open (their keys are spent) and are deleted.
    service_.save(*account, std::move(ops), [this, account, processed, got, changed, done]() mutable {
        // Saved: shown now, whatever the swarm delete does (a later round deletes them).
        for (const auto& id : changed) ctx_.bus().publish(sm::ConversationUpdated{conversation(id)});
        for (const auto& r : got) put_message(r, true);
        // The round ends once the delete is answered and attachments are fetched, so `receive`
        // can report them.
        auto left = std::make_shared<std::size_t>(2);
        auto keys = std::make_shared<std::vector<std::string>>();
        for (const auto& r : got) keys->push_back(record_key(r));
        auto finish = [this, left, keys, done] {
            if (--*left > 0) return;
            std::vector<MessageRecord> out;
            for (const auto& k : *keys) {
                if (auto* r = find(k)) out.push_back(*r);
            }
            done(std::move(out));
        };
        service_.delete_inbox(account, std::move(processed), finish, [this, finish](const std::string& m) {
            ctx_.log().warn("received messages stay in the swarm until a later round: {}", m);
            finish();
        });
        for (const auto& r : got) {
            if (r.message.kind != ChatKind::attachment || !r.error.empty()) continue;
            ++*left;
            download(r, finish);
        }
        // Accepted from another device in this round: their waiting files come now.
        for (const auto& id : changed) {
            if (!is_request(id)) download_pending(id, [] {});
        }
        finish();
    }, [this, fail](const std::string& m) {
        // Nothing was saved: nothing is deleted from the swarm, and memory goes back to the database.
        reload_after_failed_save([fail, m] { fail(m); });
    });
}

void Client::download_pending(const crypto::VeilId& peer, std::function<void()> done) {
    std::vector<MessageRecord> waiting;
    auto prefix = conversation_prefix(peer);
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        auto& r = it->second;
        if (r.message.kind != ChatKind::attachment || r.error != kNotFetched) continue;
        r.error.clear();  // in memory only: a second call does not fetch it twice
        waiting.push_back(r);
    }
    auto left = std::make_shared<std::size_t>(waiting.size() + 1);
    auto one_done = [left, done] {
        if (--*left == 0) done();
    };
    for (auto& r : waiting) download(std::move(r), one_done);
    one_done();
}

void Client::after_accept(const crypto::VeilId& peer, std::function<void()> done) {
    // The resident client answers at once; a one-shot command waits, or its exit cuts the fetch.
    if (resident_) {
        download_pending(peer, [] {});
        return done();
    }
    download_pending(peer, std::move(done));
}

void Client::download(MessageRecord r, std::function<void()> done) {
    sdk::attachment::DownloadAttachment d;
    d.ref = *r.message.attachment;
    d.directory = (ctx_.home_dir() / "attachments").string();
    d.transfer_id = hex(r.message.id);
    std::error_code ec;
    std::filesystem::create_directories(d.directory, ec);
    auto key = record_key(r);
    auto finished = [this, key, done](std::string path, std::string error) {
        auto* rec = find(key);
        if (!rec) {  // it disappeared while downloading
            if (!path.empty()) remove_saved_file(path);
            return done();
        }
        rec->saved_path = std::move(path);
        rec->error = std::move(error);
        auto copy = *rec;
        write({record_op(copy)}, [this, copy, done] {
            ctx_.bus().publish(sm::MessageUpdated{view(copy)});
            done();
        }, [this, done](const std::string& m) {
            ctx_.log().warn("{}", m);
            done();
        });
    };
    bool asked = ctx_.bus().request<sdk::attachment::DownloadAttachment>(
        std::move(d), kTransferTimeoutMs, [finished](sdk::Result<sdk::attachment::DownloadedAttachment> res) {
            if (res) return finished(res.value().path, "");
            if (res.error().code == sdk::ErrorCode::no_handler) return finished("", std::string(kNoAttachments));
            finished("", "the attachment could not be downloaded: " + res.error().message);
        });
    if (!asked) finished("", "the bus is closed");
}

void Client::put_message(const MessageRecord& r, bool added) {
    messages_[record_key(r)] = r;
    if (added) ctx_.bus().publish(sm::MessageAdded{view(r)});
}

MessageRecord* Client::find(const std::string& key) {
    auto it = messages_.find(key);
    return it == messages_.end() ? nullptr : &it->second;
}

void Client::purge_expired() {
    auto now = now_ms();
    std::vector<st::BatchOp> ops;
    std::vector<std::string> files;
    for (auto it = messages_.begin(); it != messages_.end();) {
        if (it->second.expires_at_ms == 0 || it->second.expires_at_ms > now) {
            ++it;
            continue;
        }
        ops.push_back({st::BatchOp::Kind::erase, std::string(kStorageNs), it->first, {}});
        if (!it->second.saved_path.empty()) files.push_back(it->second.saved_path);
        it = messages_.erase(it);
    }
    if (!exclusive_ || ops.empty()) return;  // a reader hides them; the owner of HOME deletes them
    write(std::move(ops), [this, files] {
        for (const auto& f : files) remove_saved_file(f);
    }, [this](const std::string& m) { ctx_.log().warn("{}", m); });
}

void Client::remove_saved_file(const std::string& path) {
    // Only files this client saved: a disappearing message takes its file with it.
    std::error_code ec;
    auto dir = std::filesystem::weakly_canonical(ctx_.home_dir() / "attachments", ec);
    auto file = std::filesystem::weakly_canonical(path, ec);
    if (ec || file.parent_path() != dir) return;
    std::filesystem::remove(file, ec);
    if (ec) ctx_.log().warn("could not delete an expired message's file: {}", ec.message());
}

void Client::receive_loop() {
    receive_once([this](const std::vector<MessageRecord>&) {
        service_.wait_inbox(account_, 60'000, [this] { receive_loop(); });
    }, [this](const std::string& m) {
        ctx_.log().warn("receiving again soon: {}", m);
        ctx_.set_timeout(2000, [this] { receive_loop(); });
    });
}

void Client::refresh_own_devices(std::function<void()> then) {
    service_.fetch_person(account_->id(), [this, then](PersonKeys own) {
        auto before = account_->device_list().version();
        account_->adopt_device_list(own.list);
        if (account_->device_list().version() == before) return then();
        service_.save(*account_, {}, then, [this, then](const std::string& m) {
            ctx_.log().warn("{}", m);
            then();
        });
    }, [then](const std::string&) { then(); });
}

void Client::run() {
    resident_ = true;
    retry_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    expiry_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    expiry_timer_->start(500, 500, [this] { purge_expired(); });
    // The own device list first: copies from a revoked device of ours are refused.
    service_.with_manifest([this] {
        refresh_own_devices([this] { receive_loop(); });
        flush([] {}, [](const std::string&) {});
    }, [this](const std::string& m) {
        ctx_.log().warn("{}", m);
        ctx_.set_timeout(2000, [this] { run(); });
    });
}

// ---- contacts ----

std::vector<ContactRecord> Client::contacts() const {
    std::vector<ContactRecord> out;
    for (const auto& [id, c] : contacts_) out.push_back(c);
    return out;
}

std::optional<ContactRecord> Client::contact(const crypto::VeilId& id) const {
    auto it = contacts_.find(id);
    if (it == contacts_.end()) return std::nullopt;
    return it->second;
}

void Client::update_contact(ContactRecord c, bool sync, std::function<void()> done, Fail fail) {
    std::vector<st::BatchOp> ops{contact_op(c)};
    // Queued even when this device knows no other: the queue run reads the current device list,
    // so a device added since still gets it (the next send, receive or resident flush).
    if (sync) {
        ChatMessage m = make_text(c.name, now_ms());
        m.kind = ChatKind::contact;
        m.contact_flags = static_cast<std::uint8_t>((c.accepted ? kContactAccepted : 0) | (c.blocked ? kContactBlocked : 0));
        m.disappear_after_s = c.disappear_after_s;
        m.sync_peer = c.id;
        ops.push_back(queued_op(account_->id(), m));
    }
    bool queued = ops.size() > 1;
    write(std::move(ops), [this, c, queued, done] {
        contacts_[c.id] = c;
        ctx_.bus().publish(sm::ConversationUpdated{conversation(c.id)});
        if (queued && resident_) flush([] {}, [](const std::string&) {});
        if (c.accepted && !c.blocked) return after_accept(c.id, done);
        done();
    }, fail);
}

void Client::save_contact(const crypto::VeilId& id, std::string name, std::function<void()> done, Fail fail) {
    if (name.size() > kMaxContactNameBytes) return fail("the name is longer than 128 bytes");
    if (id == account_->id()) return fail("that is your own ID");
    auto c = contact(id).value_or(ContactRecord{id, "", false, false, 0});
    c.name = std::move(name);
    c.accepted = true;
    update_contact(std::move(c), true, std::move(done), std::move(fail));
}

void Client::accept(const crypto::VeilId& id, std::function<void()> done, Fail fail) {
    auto c = contact(id);
    if (!c) return fail("no message request from " + id.str());
    c->accepted = true;
    update_contact(std::move(*c), true, std::move(done), std::move(fail));
}

void Client::set_blocked(const crypto::VeilId& id, bool blocked, std::function<void()> done, Fail fail) {
    if (id == account_->id()) return fail("that is your own ID");
    auto c = contact(id).value_or(ContactRecord{id, "", false, false, 0});
    c.blocked = blocked;
    update_contact(std::move(c), true, std::move(done), std::move(fail));
}

void Client::set_disappearing(const crypto::VeilId& peer, std::uint32_t seconds, std::function<void()> done, Fail fail) {
    if (seconds > kMaxDisappearS) return fail("the longest timer is 14 days (1209600 seconds)");
    if (peer == account_->id()) return fail("that is your own ID");
    auto c = contact(peer).value_or(ContactRecord{peer, "", true, false, 0});
    c.disappear_after_s = seconds;
    c.accepted = true;
    // The timer message itself reaches our other devices too.
    update_contact(c, false, [this, peer, seconds, done, fail] {
        ChatMessage m = make_text("", now_ms());
        m.kind = ChatKind::timer;
        m.disappear_after_s = seconds;
        enqueue(peer, std::move(m), [done](const MessageRecord&) { done(); }, fail);
    }, fail);
}

// ---- views ----

sm::Message Client::view(const MessageRecord& r) const {
    sm::Message m;
    m.id = hex(r.message.id);
    m.peer = r.peer.str();
    m.from = r.from.str();
    m.outgoing = r.from == account_->id();
    m.text = r.message.text;
    m.sent_at_ms = r.message.sent_at_ms;
    m.received_at_ms = r.received_at_ms;
    m.expires_at_ms = r.expires_at_ms;
    m.delivery = delivery_view(r.delivery);
    m.read = r.read;
    if (r.message.attachment) {
        const auto& a = *r.message.attachment;
        m.attachment = sm::AttachmentInfo{a.file_name, a.mime_type, a.size_bytes, r.saved_path};
    }
    return m;
}

bool Client::is_request(const crypto::VeilId& peer) const {
    auto c = contact(peer);
    return c && !c->accepted;
}

sm::Conversation Client::conversation(const crypto::VeilId& peer) const {
    sm::Conversation v;
    v.peer = peer.str();
    if (auto c = contact(peer)) {
        v.name = c->name;
        v.request = !c->accepted;
        v.blocked = c->blocked;
        v.disappear_after_s = c->disappear_after_s;
    }
    auto prefix = conversation_prefix(peer);
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        const auto& r = it->second;
        if (!r.read) ++v.unread;
        if (r.message.sent_at_ms >= v.last_at_ms) {
            v.last_at_ms = r.message.sent_at_ms;
            const auto& text = r.message.text.empty() && r.message.attachment ? r.message.attachment->file_name : r.message.text;
            v.last_text = utf8_prefix(text, kMaxSummaryTextBytes);  // list replies stay small
        }
    }
    return v;
}

std::vector<sm::Conversation> Client::conversations() const {
    std::vector<crypto::VeilId> peers;
    for (const auto& [id, c] : contacts_) peers.push_back(id);
    for (const auto& [k, r] : messages_) {
        if (peers.empty() || !(peers.back() == r.peer)) {
            if (std::find(peers.begin(), peers.end(), r.peer) == peers.end()) peers.push_back(r.peer);
        }
    }
    std::vector<sm::Conversation> out;
    for (const auto& p : peers) out.push_back(conversation(p));
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last_at_ms > b.last_at_ms; });
    return out;
}

std::vector<MessageRecord> Client::messages(const crypto::VeilId& peer, std::size_t limit) const {
    std::vector<MessageRecord> out;
    auto prefix = conversation_prefix(peer);
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        out.push_back(it->second);
    }
    if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    return out;
}

void Client::mark_read(const crypto::VeilId& peer, std::function<void()> done, Fail fail) {
    std::vector<st::BatchOp> ops;
    std::vector<MessageRecord> changed;
    auto prefix = conversation_prefix(peer);
    for (auto it = messages_.lower_bound(prefix); it != messages_.end() && it->first.starts_with(prefix); ++it) {
        if (it->second.read) continue;
        it->second.read = true;
        ops.push_back(record_op(it->second));
        changed.push_back(it->second);
    }
    write(std::move(ops), [this, peer, changed, done] {
        for (const auto& r : changed) ctx_.bus().publish(sm::MessageUpdated{view(r)});
        if (!changed.empty()) ctx_.bus().publish(sm::ConversationUpdated{conversation(peer)});
        done();
    }, fail);
}

std::size_t Client::queued_count() const {
    return static_cast<std::size_t>(std::count_if(messages_.begin(), messages_.end(), [](const auto& kv) {
        return kv.second.delivery == DeliveryState::queued;
    }));
}

}  // namespace veil::messenger
