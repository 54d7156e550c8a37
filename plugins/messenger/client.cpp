// The client's life: open (account, contacts, messages, HOME's lock), the resident loop, and
// deleting expired messages. The other jobs: client.hpp.
#include "client.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace veil::messenger {

namespace {
constexpr std::uint64_t kGroupUpkeepMs = 60'000;   // how often it expires group requests
}  // namespace

Client::Client(sdk::Context& ctx, Service& service, AccountStore& store)
    : ctx_(ctx),
      service_(service),
      store_(store),
      queue_(ctx, service, store),
      peer_list_refresh_ms_(static_cast<std::uint64_t>(ctx.config().get_int("peer_list_refresh_s")) * 1000) {
    queue_.on_dropped([this](const crypto::VeilId& to, const MessageId& id, const std::string& why) {
        mark_dropped(to, id, why);
    });
    queue_.on_accepted(is_accepted());
}

Client::~Client() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Client::open(std::function<void()> done, Fail fail, bool exclusive) {
    store_.load_account([this, done, fail, exclusive](AccountPtr a) {
        if (!a) return fail({sdk::ErrorCode::not_found, "this HOME has no identity yet: run veil init --network FILE"});
        // One process at a time owns a HOME's ratchet state: a second writer would fork it.
        auto lock_path = ctx_.home_dir() / "messenger.lock";
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        exclusive_ = lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0;
        if (!exclusive_ && exclusive) {
            return fail({sdk::ErrorCode::refused, "another veil process (a daemon or chat?) is using this HOME; stop it first"});
        }
        account_ = std::move(a);
        store_.load_contacts([this, done, fail](std::map<crypto::VeilId, ContactRecord> contacts) {
            store_.load_messages([this, done, fail, contacts = std::move(contacts)](std::map<std::string, MessageRecord> msgs) mutable {
                model_.load(account_->id(), std::move(contacts), std::move(msgs));
                purge_expired();
                load_groups(done, fail);
            }, fail);
        }, fail);
    }, fail);
}

void Client::put_message(const MessageRecord& r, bool added) {
    model_.put(r);
    if (added) ctx_.bus().publish(sdk::messenger::MessageAdded{view(r)});
    if (r.expires_at_ms != 0 && (expiry_due_ms_ == 0 || r.expires_at_ms < expiry_due_ms_)) schedule_expiry();
}

void Client::write_or_warn(std::vector<sdk::storage::BatchOp> ops, std::function<void()> done) {
    store_.write(std::move(ops), std::move(done), [this](const sdk::Error& e) { ctx_.log().warn("{}", e.message); });
}

void Client::purge_expired() {
    auto expired = model_.take_expired(now_ms());
    if (!exclusive_ || expired.ops.empty()) return;  // a reader hides them; the owner of HOME deletes them
    write_or_warn(std::move(expired.ops), [this, files = std::move(expired.files)] {
        for (const auto& f : files) remove_saved_file(f);
    });
}

void Client::schedule_expiry() {
    if (!expiry_timer_) return;  // only the resident client purges
    auto next = model_.next_expiry_ms();
    expiry_due_ms_ = next;
    if (next == 0) return expiry_timer_->stop();
    auto now = now_ms();
    expiry_timer_->start(next > now ? next - now : 0, 0, [this] {
        purge_expired();
        schedule_expiry();
    });
}

void Client::schedule_download_retry() {
    if (!download_timer_) return;  // only the resident client retries on its own
    // Failed attachment downloads, each when its backoff runs out; no timer while none waits.
    auto next = model_.next_download_retry_ms();
    if (next == 0) return download_timer_->stop();
    auto now = now_ms();
    download_timer_->start(next > now ? next - now : 0, 0, [this] {
        retry_downloads(true, [](auto) {});
        schedule_download_retry();
    });
}

void Client::receive_loop(std::vector<proto::node::MessageItem> woken_with) {
    auto failed = [this](const sdk::Error& e) {
        ctx_.log().warn("receiving again soon: {}", e.message);
        ctx_.set_timeout(2000, [this] { receive_loop({}); });
    };
    auto wait = [this] {
        // A full read from a random member is due (even while one member keeps answering):
        // whatever the long-poll's member hides or replays in place of news.
        auto next = std::exchange(read_next_, {});
        if (next.full_read) return receive_loop({});
        // A page of a longer inbox is handled like the rest: the next long-poll, after its
        // cursor, is answered at once with the following page.
        ctx_.set_timeout(next.delay_ms, [this] {
            service_.wait_inbox(account_, 60'000, [this](std::vector<proto::node::MessageItem> items, bool) {
                receive_loop(std::move(items));
            });
        });
    };
    // Saved and shown ends the round: its delete goes on beside the next long-poll (issue 19).
    auto round = [this, wait, failed](std::vector<proto::node::MessageItem> items) {
        inbox_round(std::move(items), wait, failed);
    };
    if (!woken_with.empty()) {
        bool fresh = std::any_of(woken_with.begin(), woken_with.end(),
                                 [this](const proto::node::MessageItem& m) { return !handled_.contains(m.hash); });
        read_next_ = read_policy_.after_answer(fresh, now_ms());
        if (read_next_.change_member) service_.leave_inbox_member();
        return round(std::move(woken_with));
    }
    // Timed out or due (a full read of the inbox, whichever member holds what ours missed), or failed.
    read_policy_.full_read_done(now_ms());
    service_.fetch_inbox(account_, round, failed);
}

void Client::inbox_round(std::vector<proto::node::MessageItem> items, std::function<void()> then, Fail fail) {
    in_turn([this, items = std::move(items), then, fail]() mutable {
        auto with_groups = [this, then](std::vector<MessageRecord> got) {
            receive_groups(std::move(got), [this, then](const std::vector<MessageRecord>&) {
                round_done();
                then();
            });
        };
        handle_inbox(std::move(items), with_groups, [this, fail](const sdk::Error& e) {
            round_done();
            fail(e);
        }, RoundEnd::saved);
    });
}

void Client::in_turn(std::function<void()> job) {
    turns_.push_back(std::move(job));
    if (!round_busy_) round_done();
}

void Client::round_done() {
    round_busy_ = !turns_.empty();
    if (!round_busy_) return;
    auto job = std::move(turns_.front());
    turns_.pop_front();
    job();
}

void Client::search_gaps() {
    auto now = now_ms();
    auto at = gap_searches_.next_start(now);
    if (!at || !gap_timer_) return;
    if (*at > now) return gap_timer_->start(*at - now, 0, [this] { search_gaps(); });
    gap_searches_.started(now);
    // Beside the loop (a member that does not answer costs the search its deadline, not the
    // loop); what it finds is opened in a round of its own, after the loop's.
    auto finished = [this] {
        gap_searches_.finished(order_.next_deadline().has_value());
        search_gaps();  // again while a message is held, or for a gap that made one due meanwhile
    };
    service_.fetch_inbox_everywhere(account_, [this, finished](std::vector<proto::node::MessageItem> items) {
        bool fresh = std::any_of(items.begin(), items.end(),
                                 [this](const proto::node::MessageItem& m) { return !handled_.contains(m.hash); });
        if (!fresh) return finished();
        inbox_round(std::move(items), finished, [this, finished](const sdk::Error& e) {
            ctx_.log().warn("a gap search's messages were not saved: {}", e.message);
            finished();
        });
    }, [this, finished](const sdk::Error& e) {
        ctx_.log().debug("a gap search failed: {}", e.message);
        finished();
    });
}

void Client::show_in_order(const crypto::PublicKey& device, const MessageRecord& r) {
    auto ready = resident_ ? order_.arrive(device, r, now_ms()) : std::vector<MessageRecord>{r};
    if (ready.empty()) {
        gap_searches_.held(device, now_ms());
        search_gaps();
    }
    for (const auto& shown : ready) {
        const auto* now = model_.find(record_key(shown));  // as it is now (a file saved meanwhile)
        ctx_.bus().publish(sdk::messenger::MessageAdded{view(now ? *now : shown)});
    }
    if (auto due = order_.next_deadline(); due && order_timer_) {
        order_timer_->start(*due > now_ms() ? *due - now_ms() : 0, 0, [this] { show_overdue(); });
    }
}

void Client::show_overdue() {
    for (const auto& r : order_.expire(now_ms())) {
        const auto* now = model_.find(record_key(r));
        ctx_.bus().publish(sdk::messenger::MessageAdded{view(now ? *now : r)});
    }
    if (auto due = order_.next_deadline()) {
        order_timer_->start(*due > now_ms() ? *due - now_ms() : 0, 0, [this] { show_overdue(); });
    }
}

std::vector<sdk::messenger::Message> Client::release_held() {
    std::vector<sdk::messenger::Message> out;
    for (const auto& r : order_.release_all()) {
        const auto* now = model_.find(record_key(r));
        out.push_back(view(now ? *now : r));
    }
    if (order_timer_) order_timer_->stop();
    return out;
}

void Client::refresh_own_devices(std::function<void()> then) {
    // The list alone: a bundle read that fails must not keep a newer own list (one that revokes
    // a device of ours) from being adopted.
    // Every list, not only the newest: a fork of the same version is joined too (issue 14).
    service_.fetch_device_lists(account_->id(), [this, then](std::vector<crypto::DeviceList> lists) {
        auto before = account_->device_list().version();
        for (const auto& list : lists) account_->adopt_device_list(list);
        if (account_->device_list().version() == before) return then();
        store_.save_account(*account_, {}, then, [this, then](const sdk::Error& e) {
            ctx_.log().warn("{}", e.message);
            then();
        });
    }, [then](const sdk::Error&) { then(); });
}

void Client::refresh_stale_peer_lists() {
    // The least recently checked first, a bounded number per tick: lists all stale at once (a
    // daemon started after a while) are read over several ticks, not in one burst; contacts have
    // their own share, so strangers whose lists are gone cannot crowd them out.
    auto stale = account_->peer_lists().stalest(now_ms(), peer_list_refresh_ms_, kMaxRefreshesPerTick,
                                                account_->keep_lists(is_accepted()));
    if (stale.empty()) return;
    auto account = account_;
    refresh_peer_lists(std::move(stale), nullptr, [this, account] {
        store_.save_account(*account, {}, [] {}, [this](const sdk::Error& e) { ctx_.log().warn("{}", e.message); });
    });
}

void Client::schedule_peer_list_refresh() {
    // Four ticks a period, each 0.5 to 1.5 of a quarter period: reads do not line up with every
    // other daemon's, nor come back in step.
    auto quarter = std::max<std::uint64_t>(peer_list_refresh_ms_ / 4, 1);
    auto delay = quarter / 2 + randombytes_uniform(static_cast<std::uint32_t>(std::min<std::uint64_t>(quarter, UINT32_MAX)));
    peer_list_timer_->start(delay, 0, [this] {
        refresh_stale_peer_lists();
        schedule_peer_list_refresh();
    });
}

void Client::run() {
    resident_ = true;
    // The timer below keeps held lists this young, so a send need not read them again.
    queue_.reuse_lists_younger_than(peer_list_refresh_ms_);
    retry_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    order_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    gap_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    expiry_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    schedule_expiry();
    // Group requests nobody accepted expire; rotations owed to a busy window are made.
    group_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    group_timer_->start(kGroupUpkeepMs, kGroupUpkeepMs, [this] { group_upkeep(); });
    download_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    schedule_download_retry();
    // Republishes the device list and bundle (a flush does, when due: kRepublishAfterMs, half
    // their TTL, or a publish that too few members took) even when this daemon never sends, so a
    // person who only receives stays reachable and a revocation reaches most members.
    publish_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    publish_timer_->start(kRepublishCheckMs, kRepublishCheckMs, [this] {
        if (account_->needs_publish(now_ms())) flush_in_background();
    });
    // Peers' device lists, read again on a schedule (a revocation reaches us even from a peer
    // who writes nothing); a message from a device not active in a fresh list is checked anyway.
    peer_list_timer_ = std::make_unique<sdk::Timer>(ctx_.loop());
    schedule_peer_list_refresh();
    // The own device list first: copies from a revoked device of ours are refused.
    service_.with_manifest([this] {
        refresh_own_devices([this] { resume_deletes([this] { receive_loop({}); }); });
        flush_in_background();
    }, [this](const sdk::Error& e) {
        ctx_.log().warn("{}", e.message);
        ctx_.set_timeout(2000, [this] { run(); });
    });
}

}  // namespace veil::messenger
