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
    // A message request's sender counts against the strangers' session cap (stranger_sessions.hpp).
    auto is_accepted = [this](const crypto::VeilId& sender) {
        auto c = model_.contact(sender);
        return c && c->accepted;
    };
    for (const auto& item : items) {
        processed.push_back(item.hash);
        try {
            Opened o;
            auto r = account->open(item.data, now_ms(), &o.device, is_blocked, is_accepted);
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

// A peer's message counts only if its device is active in the newest list known for the peer
// (a revoked device still holds a valid certificate). The held list is read again first when
// the device is not active in it or it was checked longer ago than peer_list_refresh_s; a
// rollback is ignored (PeerLists). A device the held list marks revoked stays refused when the
// read fails; only a device it does not list yet is let in then (its certificate is the
// identity's: a device added since).
void Client::check_devices(std::shared_ptr<std::vector<Opened>> opened, std::function<void()> then) {
    const auto& peers = account_->peer_lists();
    std::vector<crypto::VeilId> refresh;
    for (const auto& o : *opened) {
        if (o.record.from == account_->id()) continue;  // own devices: checked by Account::open
        bool listed = peers.state(o.record.from, o.device) == PeerLists::DeviceState::active;
        if ((!listed || peers.stale(o.record.from, now_ms(), peer_list_refresh_ms_)) &&
            std::find(refresh.begin(), refresh.end(), o.record.from) == refresh.end()) {
            refresh.push_back(o.record.from);
        }
    }
    auto unread = std::make_shared<std::vector<crypto::VeilId>>();
    auto filter = [this, opened, then, unread] {
        std::erase_if(*opened, [this, unread](const Opened& o) {
            if (o.record.from == account_->id()) return false;
            auto state = account_->peer_lists().state(o.record.from, o.device);
            if (state == PeerLists::DeviceState::active) return false;
            bool unverifiable = std::find(unread->begin(), unread->end(), o.record.from) != unread->end();
            if (state == PeerLists::DeviceState::unknown && unverifiable) return false;
            ctx_.log().warn("a message from a device its owner does not list (revoked?) was dropped");
            return true;
        });
        then();
    };
    refresh_peer_lists(std::move(refresh), unread, filter);
}

void Client::refresh_peer_lists(std::vector<crypto::VeilId> peers, std::shared_ptr<std::vector<crypto::VeilId>> unread,
                                std::function<void()> then) {
    if (peers.empty()) return then();
    auto left = std::make_shared<std::size_t>(peers.size());
    auto account = account_;
    for (const auto& who : peers) {
        auto one_done = [left, then] {
            if (--*left == 0) then();
        };
        service_.fetch_person(who, [account, who, one_done](PersonKeys keys) {
            (void)account->peer_lists().accept(who, keys.list, now_ms());
            one_done();
        }, [this, who, unread, one_done](const sdk::Error& e) {
            ctx_.log().warn("a sender's device list could not be read: {}", e.message);
            if (unread) unread->push_back(who);
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
