// Receiving: one round takes the inbox (fetched, or as the subscribe answer carried it), opens
// every envelope (a blocked sender's before its session is touched), drops what a revoked device wrote, saves state and records in one batch, then
// deletes every processed hash from the swarm and fetches attachments.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "client.hpp"
#include "pending_deletes.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;
// Hashes kept for a delete that failed, at most (a long outage; beyond it they expire in the swarm).
constexpr std::size_t kMaxPendingDeletes = 20'000;

}  // namespace

StrangerSessions::IsAccepted Client::is_accepted() const {
    return [this](const crypto::VeilId& peer) {
        auto c = model_.contact(peer);
        return c && c->accepted;
    };
}

void Client::receive_once(std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    auto account = account_;
    // The inbox first (it brings the chains and states), then every group mailbox.
    auto with_groups = [this, done](std::vector<MessageRecord> got) { receive_groups(std::move(got), done); };
    service_.fetch_inbox(account, [this, with_groups, fail](std::vector<proto::node::MessageItem> items) {
        handle_inbox(std::move(items), with_groups, fail);
    }, fail);
}

void Client::receive_woken(std::vector<proto::node::MessageItem> woken_with,
                           std::function<void(std::vector<MessageRecord>)> done, Fail fail) {
    if (woken_with.empty()) return receive_once(std::move(done), std::move(fail));
    auto with_groups = [this, done](std::vector<MessageRecord> got) { receive_groups(std::move(got), done); };
    handle_inbox(std::move(woken_with), with_groups, std::move(fail));
}

void Client::handle_inbox(std::vector<proto::node::MessageItem> items, std::function<void(std::vector<MessageRecord>)> done,
                          Fail fail, RoundEnd end) {
    auto account = account_;
    auto opened = std::make_shared<std::vector<Opened>>();
    std::vector<proto::node::Hash> processed;
    auto is_blocked = [this](const crypto::VeilId& sender) {
        auto c = model_.contact(sender);
        return c && c->blocked;
    };
    for (const auto& item : items) {
        processed.push_back(item.hash);
        // Handled already, its delete not arrived where this copy came from: deleted again, not opened.
        if (handled_.contains(item.hash)) continue;
        try {
            Opened o;
            // A message request's sender counts against the strangers' session cap (stranger_sessions.hpp).
            auto r = account->open(item.data, now_ms(), &o.device, is_blocked, is_accepted());
            if (!r) continue;
            o.record = std::move(*r);
            opened->push_back(std::move(o));
        } catch (const std::exception& e) {
            ctx_.log().warn("an inbox message could not be opened and was dropped ({})", e.what());
        }
    }
    if (processed.empty()) return done({});
    check_devices(opened, [this, account, opened, processed, done, fail, end]() mutable {
        store_received(account, std::move(*opened), std::move(processed), done, fail, end);
    });
}

// A peer's message counts only if its device is active in the newest list known for the peer
// (a revoked device still holds a valid certificate). ListChecks says when the held list is read
// again first: a device it does not name (backed off per peer), a device's first message (rate
// limited), a list checked longer ago than peer_list_refresh_s. A rollback is ignored
// (PeerLists). A device the held list marks revoked stays refused when the read fails; only a
// device it does not name yet is let in then (its certificate is the identity's: a device added
// since).
void Client::check_devices(std::shared_ptr<std::vector<Opened>> opened, std::function<void()> then) {
    const auto& peers = account_->peer_lists();
    auto now = now_ms();
    auto read = std::make_shared<std::vector<crypto::VeilId>>();
    // Devices unnamed before this round's reads: one a read names ends its peer's backoff.
    auto unnamed = std::make_shared<std::set<std::pair<crypto::VeilId, crypto::PublicKey>>>();
    for (const auto& o : *opened) {
        const auto& from = o.record.from;
        if (from == account_->id()) continue;  // own devices: checked by Account::open
        auto state = peers.state(from, o.device);
        if (state == PeerLists::DeviceState::unknown) unnamed->insert({from, o.device});
        if (std::find(read->begin(), read->end(), from) != read->end()) continue;
        if (list_checks_.wants_read(from, o.device, state, peers.stale(from, now, peer_list_refresh_ms_), now)) {
            read->push_back(from);
        }
    }
    auto unread = std::make_shared<std::vector<crypto::VeilId>>();
    auto filter = [this, opened, then, read, unread, unnamed] {
        auto checked_at = now_ms();
        auto has = [](const std::vector<crypto::VeilId>& v, const crypto::VeilId& p) {
            return std::find(v.begin(), v.end(), p) != v.end();
        };
        std::erase_if(*opened, [&](const Opened& o) {
            const auto& from = o.record.from;
            if (from == account_->id()) return false;
            auto state = account_->peer_lists().state(from, o.device);
            bool read_now = has(*read, from);
            if (state == PeerLists::DeviceState::active) {
                list_checks_.seen(from, o.device, read_now && unnamed->contains({from, o.device}));
                return false;
            }
            // Unnamed: let in only when this round's read got no answer.
            if (state == PeerLists::DeviceState::unknown &&
                list_checks_.admit_unnamed(from, read_now, has(*unread, from), checked_at)) {
                return false;
            }
            ctx_.log().warn("a message from a device its owner does not list (revoked?) was dropped");
            return true;
        });
        then();
    };
    refresh_peer_lists(*read, unread, filter);
}

void Client::refresh_peer_lists(std::vector<crypto::VeilId> peers, std::shared_ptr<std::vector<crypto::VeilId>> unread,
                                std::function<void()> then) {
    if (peers.empty()) return then();
    auto left = std::make_shared<std::size_t>(peers.size());
    auto account = account_;
    for (const auto& who : peers) {
        // At most one read per peer in flight: a round that finds one waits for its answer.
        list_checks_.read(who, now_ms(), [this, account, who](ListChecks::Finished finished) {
            // Orders the scheduled refresh by attempts: a list that cannot be read goes to the back.
            account->peer_lists().tried(who, now_ms());
            // The list alone: a bundle read that fails must not throw away a list already read.
            service_.fetch_device_lists(who, [this, account, who, finished](std::vector<crypto::DeviceList> lists) {
                // Every valid list, lowest version first: the newest is held, and what any of
                // them revokes stays revoked (a fork's list too). A contact's list, or a list of
                // a peer we hold sessions with, is never evicted.
                auto keep = account->keep_lists(is_accepted());
                for (const auto& list : lists) (void)account->peer_lists().accept(who, list, now_ms(), keep);
                finished(true);
            }, [this, finished](const sdk::Error& e) {
                // The message may name the peer: only at debug level.
                ctx_.log().warn("a sender's device list could not be read");
                ctx_.log().debug("device list read failed: {}", e.message);
                // Most members gave a complete read and none holds a valid list (not_found needs
                // that, absence_agreed): a read that names no device, not a failed one (that would
                // let an unnamed device in). One member's "none" is a failed read.
                finished(e.code == sdk::ErrorCode::not_found);
            });
        }, [left, then, who, unread](bool ok) {
            if (!ok && unread) unread->push_back(who);
            if (--*left == 0) then();
        });
    }
}

void Client::forget_deleted(const std::vector<proto::node::Hash>& hashes) {
    std::vector<sdk::storage::BatchOp> ops;
    ops.reserve(hashes.size());
    for (const auto& h : hashes) ops.push_back(pending_delete_erase_op(h));
    write_or_warn(std::move(ops), [] {});
}

void Client::resume_deletes(std::function<void()> then) {
    store_.scan(kPendingDeletePrefix, kMaxPendingDeletes, [this, then](std::vector<sdk::storage::Entry> entries) {
        std::vector<proto::node::Hash> left;
        for (const auto& e : entries) {
            if (auto h = pending_delete_hash(e.key)) left.push_back(*h);
        }
        if (!left.empty()) ctx_.log().info("deleting {} handled message(s) left in the swarm by the last run", left.size());
        // Handled already: a read that meets them before the delete lands deletes them unopened.
        for (const auto& h : left) handled_.add(h);
        delete_in_background(std::move(left));
        then();
    }, [this, then](const sdk::Error& e) {
        ctx_.log().warn("the deletes left by the last run could not be read: {}", e.message);
        then();
    });
}

void Client::delete_in_background(std::vector<proto::node::Hash> hashes) {
    deletes_.pending.insert(deletes_.pending.end(), hashes.begin(), hashes.end());
    if (deletes_.running || deletes_.pending.empty()) return;
    // One delete in flight: what arrives meanwhile goes in the next one (a burst costs the swarm
    // a few signed deletes, not one per message).
    deletes_.running = true;
    auto again = [this] {
        deletes_.running = false;
        delete_in_background({});
    };
    auto batch = std::exchange(deletes_.pending, {});
    service_.delete_inbox(account_, batch, [this, again, batch] {
        deletes_.retry_ms = 0;
        forget_deleted(batch);
        again();
    }, [this, again, batch](const sdk::Error& e) {
        // Put back (the cursor skips them: no later round would find them again), and tried
        // again after a growing pause; bounded, the oldest first out (they expire in the swarm).
        ctx_.log().warn("received messages stay in the swarm until the delete is tried again: {}", e.message);
        deletes_.pending.insert(deletes_.pending.begin(), batch.begin(), batch.end());
        if (deletes_.pending.size() > kMaxPendingDeletes) {
            auto drop = deletes_.pending.end() - static_cast<std::ptrdiff_t>(kMaxPendingDeletes);
            forget_deleted({deletes_.pending.begin(), drop});
            deletes_.pending.erase(deletes_.pending.begin(), drop);
        }
        deletes_.retry_ms = std::clamp<std::uint64_t>(deletes_.retry_ms * 2, 1'000, 60'000);
        ctx_.set_timeout(deletes_.retry_ms, again);
    });
}

void Client::store_received(const AccountPtr& account, std::vector<Opened> opened, std::vector<proto::node::Hash> processed,
                            std::function<void(std::vector<MessageRecord>)> done, Fail fail, RoundEnd end) {
    auto group_ops = take_group_controls(opened);
    std::vector<MessageRecord> records;
    std::map<MessageId, crypto::PublicKey> devices;  // who wrote each: its place in the sender's order
    for (auto& o : opened) {
        devices.emplace(o.record.message.id, o.device);
        records.push_back(std::move(o.record));
    }
    auto round = model_.receive(std::move(records), now_ms());
    const bool groups_changed = !group_ops.empty();
    for (auto& op : group_ops) round.ops.push_back(std::move(op));
    // Kept until the swarm takes their delete: a stop or a crash before it loses none.
    for (const auto& h : processed) round.ops.push_back(pending_delete_op(h));
    for (std::size_t i = 0; i < round.duplicates; ++i) {
        ctx_.log().warn("a message whose id and time are already stored was dropped");
    }
    // Saved first, then deleted from the swarm: a crash in between leaves their pending deletes
    // in the database, and the next start deletes them without opening them again.
    auto got = std::move(round.shown);
    auto changed = std::move(round.changed);
    save_round(account, std::move(round.ops), [this, account, processed, got, changed, groups_changed, done, end,
                                               devices = std::move(devices)]() mutable {
        // Saved: shown now (in each sender's order), whatever the swarm delete does (a later round deletes them).
        for (const auto& h : processed) handled_.add(h);
        for (const auto& id : changed) ctx_.bus().publish(sm::ConversationUpdated{conversation(id)});
        if (groups_changed) publish_groups();  // an invitation, a new member or name: the list changes
        for (const auto& r : got) {
            put_message(r, false);  // kept, its expiry armed; shown below in its sender's order
            show_in_order(devices[r.message.id], r);
        }
        // One-shot: the round ends once the delete is answered and attachments are fetched, so
        // `receive` can report them. Resident: it ends now, and they go on beside the next long-poll.
        auto keys = std::make_shared<std::vector<std::string>>();
        for (const auto& r : got) keys->push_back(record_key(r));
        auto report = [this, keys, done] {
            std::vector<MessageRecord> out;
            for (const auto& k : *keys) {
                if (auto* r = model_.find(k)) out.push_back(*r);
            }
            done(std::move(out));
        };
        auto left = std::make_shared<std::size_t>(2);
        auto finish = [left, report, end] {
            if (--*left == 0 && end == RoundEnd::deleted) report();
        };
        if (end == RoundEnd::saved) {
            delete_in_background(std::move(processed));
            finish();
        } else {
            service_.delete_inbox(account, processed, [this, processed, finish] {
                forget_deleted(processed);
                finish();
            }, [this, finish](const sdk::Error& e) {
                ctx_.log().warn("received messages stay in the swarm until a later round: {}", e.message);
                finish();
            });
        }
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
        if (end == RoundEnd::saved) report();
    }, fail);
}

void Client::save_round(const AccountPtr& account, std::vector<sdk::storage::BatchOp> ops, std::function<void()> saved,
                        Fail fail, unsigned tries) {
    // Never back to the database's older state: the ratchets moved in memory, and a send after
    // such a reload would use the same message keys again. The round's ops are owed (the store
    // writes them with the next account save, this retry's or a send's); the round ends, and its
    // envelopes leave the swarm, only once they are stored.
    store_.save_account(*account, std::move(ops), saved, [this, account, saved, fail, tries](const sdk::Error& e) {
        if (!resident_ && tries + 1 >= kOneShotSaveTries) return fail(e);
        auto pause = std::min<std::uint64_t>(std::uint64_t{1'000} << std::min(tries, 6U), 60'000);
        ctx_.log().warn("the messages received are saved again in {} s: {}", pause / 1000, e.message);
        ctx_.set_timeout(pause, [this, account, saved, fail, tries] { save_round(account, {}, saved, fail, tries + 1); });
    });
}

}  // namespace veil::messenger
