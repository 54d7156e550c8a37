#include "send_queue.hpp"

#include "outbox.hpp"

namespace veil::messenger {
namespace {

namespace st = sdk::storage;
constexpr std::size_t kEntriesPerRun = 1000;

// How long a message waits for its recipient's device list or bundle to appear (a new contact
// still publishing, a swarm catching up) before it turns failed; runs meanwhile retry it with
// the client's backoff.
constexpr std::uint64_t kMissingKeysGraceMs = 10 * 60 * 1000;

// A swarm answered and refused (quota_exceeded, too_large, ...): this message waits, the others go.
bool refused_by_swarm(const sdk::Error& e) { return e.code == sdk::ErrorCode::refused; }

}  // namespace

SendQueue::SendQueue(sdk::Context& ctx, Service& service, AccountStore& store)
    : ctx_(ctx),
      service_(service),
      store_(store),
      keys_(KeyReads{
          [&service](const crypto::VeilId& who, std::function<void(std::vector<crypto::DeviceList>)> done, Fail fail) {
              service.fetch_device_lists(who, std::move(done), std::move(fail));
          },
          [&service](const crypto::VeilId& who, const crypto::DeviceList& list, std::function<void(Bundles)> done,
                     Fail fail) { service.fetch_bundles(who, list, std::move(done), std::move(fail)); },
      }) {}

void SendQueue::run(const AccountPtr& account, std::function<void()> done, Fail fail) {
    held_.clear();
    flush_outbox([this, account, done, fail] {
        store_.scan(kQueuePrefix, kEntriesPerRun, [this, account, done, fail](std::vector<st::Entry> entries) {
            auto queue = std::make_shared<std::vector<st::Entry>>(std::move(entries));
            keys_.new_run();
            send_queued(account, queue, 0, done, fail);
        }, fail);
    }, fail);
}

void SendQueue::flush_outbox(std::function<void()> done, Fail fail) {
    store_.scan(kOutboxPrefix, kEntriesPerRun, [this, done, fail](std::vector<st::Entry> entries) {
        flush_entries(std::make_shared<std::vector<st::Entry>>(std::move(entries)), 0, done, fail);
    }, std::move(fail));
}

// One entry (one message) at a time, so a message its swarm refuses holds back no other.
void SendQueue::flush_entries(std::shared_ptr<std::vector<st::Entry>> entries, std::size_t next,
                              std::function<void()> done, Fail fail) {
    if (next >= entries->size()) return done();
    const auto& e = (*entries)[next];
    auto go_on = [this, entries, next, done, fail] { flush_entries(entries, next + 1, done, fail); };
    std::vector<proto::node::StoreRequest> stores;
    try {
        stores = decode_outbox(e.value);
    } catch (const wire::DecodeError&) {
        ctx_.log().warn("a damaged outbox entry was dropped");
        return store_.write({erase_op(e.key)}, go_on, fail);
    }
    auto id = outbox_id(e.key);
    // The same bytes give the same message hash: a node keeps a resent store once.
    service_.store_all(std::move(stores), [this, key = e.key, go_on, fail] { store_.write({erase_op(key)}, go_on, fail); },
                       [this, id, go_on, fail](const sdk::Error& err) {
                           if (!refused_by_swarm(err) || !id) return fail(err);
                           held_.insert_or_assign(*id, err);
                           go_on();
                       });
}

void SendQueue::send_committed(const MessageId& id, std::vector<proto::node::StoreRequest> stores,
                               std::function<void()> done, Fail fail) {
    if (stores.empty()) return done();
    // The bytes just saved in the outbox, sent from memory: a crash before the erase leaves the
    // entry, and the next run resends the same bytes (kept once by the node). A refusal leaves
    // the entry too, and the run goes on with the next message.
    service_.store_all(std::move(stores), [this, id, done, fail] { store_.write({erase_op(outbox_key(id))}, done, fail); },
                       [this, id, done, fail](const sdk::Error& err) {
                           if (!refused_by_swarm(err)) return fail(err);
                           ctx_.log().warn("a message waits in the outbox: {}", err.message);
                           held_.insert_or_assign(id, err);
                           done();
                       });
}

void SendQueue::send_queued(const AccountPtr& account, std::shared_ptr<std::vector<st::Entry>> queue, std::size_t next,
                            std::function<void()> done, Fail fail) {
    if (next >= queue->size()) return done();
    const auto& entry = (*queue)[next];
    auto dequeue = erase_op(entry.key);
    auto go_on = [this, account, queue, next, done, fail] { send_queued(account, queue, next + 1, done, fail); };
    std::pair<crypto::VeilId, ChatMessage> item;
    try {
        item = decode_queued(entry.value);
    } catch (const wire::DecodeError&) {
        ctx_.log().warn("a damaged queued message was dropped");
        return store_.save_account(*account, {dequeue}, go_on, fail);
    }
    // Saves the ratchet state, the envelopes and the dequeue in one batch before anything leaves
    // (a crash resends the same bytes, never new ones; the message record was saved when it was
    // queued), then sends those envelopes.
    auto commit = [this, account, dequeue, go_on, fail](const MessageId& id, std::vector<proto::node::StoreRequest> stores) {
        std::vector<st::BatchOp> ops{dequeue};
        if (!stores.empty()) ops.push_back(outbox_op(id, stores));
        store_.save_account(*account, std::move(ops), [this, id, stores = std::move(stores), go_on, fail]() mutable {
            send_committed(id, std::move(stores), go_on, fail);
        }, fail);
    };
    // A message that can never go out (the ID has no reachable device) leaves the queue, so it
    // does not hold up the ones behind it; network trouble keeps it queued.
    // Reported through on_dropped_ (the record turns failed); the rest of the queue still goes.
    auto drop = [this, account, dequeue, fail, item, go_on](const std::string& why) {
        if (now_ms() < item.second.sent_at_ms + kMissingKeysGraceMs) {
            // Not yet: it stays queued (held, with the reason) and the next run tries again.
            held_.insert_or_assign(item.second.id, sdk::Error{sdk::ErrorCode::not_found, why + " (retrying)"});
            return go_on();
        }
        ctx_.log().warn("a queued message was dropped: {}", why);
        store_.save_account(*account, {dequeue}, [this, go_on, why, item] {
            if (on_dropped_) on_dropped_(item.first, item.second.id, why);
            go_on();
        }, fail);
    };
    const auto to = item.first;
    if (to == account->id()) {
        // For our other devices only (a contact change): nothing to do without them.
        return keys_.person(account, to, [account, item, commit, drop](PersonKeys own) {
            std::vector<proto::node::StoreRequest> stores;
            try {
                stores = account->prepare_sync(own.bundles, item.second, now_ms());
            } catch (const std::exception& e) {
                return drop(e.what());
            }
            commit(item.second.id, std::move(stores));
        }, fail);
    }
    Fail fail_to = [fail, drop](const sdk::Error& e) {
        if (is_undeliverable(e)) return drop(e.message);
        fail(e);
    };
    const auto asked_ms = now_ms();
    keys_.gather(account, to, [this, account, item, commit, drop, asked_ms](PersonKeys theirs, PersonKeys own) {
        // Where a send's time goes (issue 19): each read is a round trip through the onion.
        ctx_.log().debug("send: keys in {} ms (recipient's list {}, {} bundles; own list {}, {} bundles)",
                         now_ms() - asked_ms, theirs.list_read ? "read" : "held", theirs.bundles.size(),
                         own.list_read ? "read" : "held", own.bundles.size());
        Account::Outgoing out;
        try {
            out = account->prepare_send(item.first, theirs.list, theirs.bundles, own.bundles, item.second, now_ms(),
                                        swarm_ttl_ms(item.second.disappear_after_s),
                                        theirs.list_read ? Account::ListSource::read : Account::ListSource::held,
                                        is_accepted_);
        } catch (const std::exception& e) {
            return drop(e.what());
        }
        commit(item.second.id, std::move(out.stores));
    }, fail_to, fail);
}

}  // namespace veil::messenger
