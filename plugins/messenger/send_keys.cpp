#include "send_keys.hpp"

namespace veil::messenger {

void SendKeys::gather(const AccountPtr& account, const crypto::VeilId& to,
                      std::function<void(PersonKeys, PersonKeys)> done, Fail fail_theirs, Fail fail) {
    struct Join {
        std::optional<PersonKeys> theirs, own;
        bool failed = false;
    };
    auto join = std::make_shared<Join>();
    auto both = [join, done] {
        if (join->theirs && join->own) done(std::move(*join->theirs), std::move(*join->own));
    };
    auto once = [join](Fail f) {
        return [join, f = std::move(f)](const sdk::Error& e) {
            if (join->failed) return;
            join->failed = true;
            f(e);
        };
    };
    person(account, to, [join, both](PersonKeys k) {
        if (join->failed) return;
        join->theirs = std::move(k);
        both();
    }, once(std::move(fail_theirs)));
    person(account, account->id(), [join, both](PersonKeys k) {
        if (join->failed) return;
        join->own = std::move(k);
        both();
    }, once(std::move(fail)));
}

void SendKeys::person(const AccountPtr& account, const crypto::VeilId& who,
                      std::function<void(PersonKeys)> done, Fail fail) {
    if (auto it = run_.find(who); it != run_.end()) return done(it->second);
    auto keep = [this, who, done](PersonKeys k) {
        run_.insert_or_assign(who, k);
        done(std::move(k));
    };
    const auto now = clock_();
    if (auto held = fresh_list(*account, who, now)) {
        return complete(account, who, PersonKeys{std::move(*held), {}, false}, keep, std::move(fail));
    }
    reads_.device_list(who, [this, account, who, now, keep, fail](std::vector<crypto::DeviceList> lists) {
        auto list = newest_of(lists);
        if (who == account->id()) {
            // Every list of ours, not only the newest: a fork of the same version (a device
            // restored from an old backup) is joined too, so its revocations hold here.
            for (const auto& l : lists) account->adopt_device_list(l);
            own_read_ms_ = now;
            list = account->device_list();
        } else if (const auto* held = account->peer_lists().find(who); held && held->list.version() > list.version()) {
            list = held->list;  // a member served an older list: the held one is what the send uses
        }
        complete(account, who, PersonKeys{std::move(list), {}, true}, keep, fail);
    }, fail);
}

std::optional<crypto::DeviceList> SendKeys::fresh_list(const Account& account, const crypto::VeilId& who,
                                                       std::uint64_t now_ms) const {
    if (max_age_ms_ == 0) return std::nullopt;
    if (who == account.id()) {
        if (!own_read_ms_ || now_ms >= *own_read_ms_ + max_age_ms_) return std::nullopt;
        return account.device_list();
    }
    if (account.peer_lists().stale(who, now_ms, max_age_ms_)) return std::nullopt;
    return account.peer_lists().find(who)->list;
}

void SendKeys::complete(const AccountPtr& account, const crypto::VeilId& who, PersonKeys keys,
                        std::function<void(PersonKeys)> done, Fail fail) {
    if (!account->needs_bundles(who, keys.list)) return done(std::move(keys));
    auto list = keys.list;
    reads_.bundles(who, list, [keys = std::move(keys), done](Bundles bundles) mutable {
        keys.bundles = std::move(bundles);
        done(std::move(keys));
    }, std::move(fail));
}

}  // namespace veil::messenger
