// Receiving: one round takes the inbox (fetched, or as the subscribe answer carried it), opens
// every envelope (a blocked sender's before its session is touched), drops what a revoked device wrote, saves state and records in one batch, then
// deletes every processed hash from the swarm and fetches attachments.
#include <algorithm>

#include "client.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;

}  // namespace

void Client::receive_once(std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    auto account = account_;
    service_.fetch_inbox(account, [this, done, fail](std::vector<proto::node::MessageItem> items) {
        handle_inbox(std::move(items), done, fail);
    }, fail);
}

void Client::receive_woken(std::vector<proto::node::MessageItem> woken_with,
                           std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    if (woken_with.empty()) return receive_once(std::move(done), std::move(fail));
    handle_inbox(std::move(woken_with), std::move(done), std::move(fail));
}

void Client::handle_inbox(std::vector<proto::node::MessageItem> items, std::function<void(std::vector<MessageRecord>)> done,
                          Fail fail) {
    auto account = account_;
    auto opened = std::make_shared<std::vector<Opened>>();
    std::vector<proto::node::Hash> processed;
    auto is_blocked = [this](const crypto::VeilId& sender) {
        auto c = model_.contact(sender);
        return c && c->blocked;
    };
    for (const auto& item : items) {
        processed.push_back(item.hash);
        try {
            Opened o;
            auto r = account->open(item.data, now_ms(), &o.device, is_blocked);
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
        }, [this, who, unread, one_done](const sdk::Error& e) {
            ctx_.log().warn("a sender's device list could not be read: {}", e.message);
            unread->push_back(who);
            one_done();
        });
    }
}

void Client::store_received(const AccountPtr& account, std::vector<Opened> opened, std::vector<proto::node::Hash> processed,
                            std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    std::vector<MessageRecord> records;
    for (auto& o : opened) records.push_back(std::move(o.record));
    auto round = model_.receive(std::move(records), now_ms());
    for (std::size_t i = 0; i < round.duplicates; ++i) {
        ctx_.log().warn("a message whose id and time are already stored was dropped");
    }
    // Saved first, then deleted from the swarm: a crash in between re-fetches messages
    // that then fail to open (their keys are spent) and are deleted.
    auto got = std::move(round.shown);
    auto changed = std::move(round.changed);
    store_.save_account(*account, std::move(round.ops), [this, account, processed, got, changed, done]() mutable {
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
                if (auto* r = model_.find(k)) out.push_back(*r);
            }
            done(std::move(out));
        };
        service_.delete_inbox(account, std::move(processed), finish, [this, finish](const sdk::Error& e) {
            ctx_.log().warn("received messages stay in the swarm until a later round: {}", e.message);
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
    }, [this, fail](const sdk::Error& e) {
        // Nothing was saved: nothing is deleted from the swarm, and memory goes back to the database.
        reload_after_failed_save([fail, e] { fail(e); });
    });
}

}  // namespace veil::messenger
