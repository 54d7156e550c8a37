#include "service.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "inbox_items.hpp"
#include "public_gather.hpp"
#include "swarm_store.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/proto/store_work.hpp"
#include "veil/crypto/envelope.hpp"
#include "veil/crypto/error.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/swarm.hpp"

namespace veil::messenger {
namespace {

namespace sw = sdk::swarm;
constexpr std::uint32_t kManifestWaitMs = 20'000;
// Proof of work a sender pays at most for one envelope (a few minutes of one core); above it the
// message waits in the outbox (the flood expires or the owner drains it) and is retried.
constexpr std::uint64_t kMaxWorkHashes = 1ULL << 28;
// Work from which the sender is told (about a second of one core and more).
constexpr std::uint64_t kSlowWorkHashes = 1ULL << 21;
// Stores of one envelope with work (members may raise their price while we solve).
constexpr int kMaxWorkRounds = 3;

sdk::Error node_error(const proto::node::Response& r) {
    std::string s = std::string("a service node answered ") + proto::node::to_string(r.status);
    if (const auto* e = std::get_if<proto::node::ErrorResponse>(&r.body)) s += ": " + e->message;
    if (const auto* w = std::get_if<proto::node::WorkRequiredResponse>(&r.body)) s += ": " + w->message;
    return {sdk::ErrorCode::refused, std::move(s)};
}

sdk::Error no_swarm() {
    return {sdk::ErrorCode::unreachable, "network unreachable: the manifest has no swarm for this mailbox"};
}

// Sends a request to the network plugin, which always answers (each node request has its own
// deadline), hence no bus deadline.
template <class R>
void ask(sdk::Bus& bus, R q, const std::function<void(sdk::Result<typename R::Reply>)>& done) {
    if (!bus.request<R>(std::move(q), 0, done)) done(sdk::Error{sdk::ErrorCode::closed, "the bus is closed"});
}

}  // namespace

Service::Service(sdk::Context& ctx, Clock clock) : ctx_(ctx), clock_(std::move(clock)) {
    ctx_.on<sdk::network::ManifestUpdated>([this](const sdk::network::ManifestUpdated& m) { adopt(m.manifest); });
}

Service::~Service() { stopping_->store(true); }

void Service::adopt(std::shared_ptr<const proto::Manifest> m) {
    if (!manifest_ || m->version > manifest_->version) manifest_ = std::move(m);
}

void Service::with_manifest(std::function<void()> then, Fail fail) {
    if (manifest_) return then();
    sdk::network::GetManifest q;
    q.wait_ms = kManifestWaitMs;
    ask(ctx_.bus(), q, [this, then, fail](sdk::Result<sdk::network::ManifestReply> r) {
        if (!r && r.error().code == sdk::ErrorCode::not_found) {
            return fail({sdk::ErrorCode::unreachable,
                         "network unreachable: no service node answered with a valid manifest (check the network file)"});
        }
        if (!r) return fail(network_error(r.error()));
        adopt(r.value().manifest);
        then();
    });
}

void Service::store_all(std::vector<proto::node::StoreRequest> stores, std::function<void()> done, Fail fail) {
    store_each(std::move(stores), [done](Holders) { done(); }, std::move(fail), Quorum::answered);
}

void Service::store_each(std::vector<proto::node::StoreRequest> stores, std::function<void(Holders)> done, Fail fail,
                         Quorum quorum) {
    if (stores.empty()) return done(Holders{});
    // Each store goes to every member of its swarm at once: a member killed before it
    // replicated cannot hide a message, so messages are not held back behind later ones.
    // A majority of the members that answered must store it (judge_store); the others catch up
    // by replication.
    auto left = std::make_shared<std::size_t>(stores.size());
    auto failed = std::make_shared<bool>(false);
    auto fewest = std::make_shared<Holders>();
    for (auto& s : stores) {
        store_one(std::move(s), [left, failed, fewest, done](Holders one) {
            if (*failed) return;
            if (!one.settled() && (fewest->settled() || one.held < fewest->held)) *fewest = one;
            if (--*left == 0) done(*fewest);
        }, [failed, fail](const sdk::Error& e) {
            if (!std::exchange(*failed, true)) fail(e);
        }, quorum);
    }
}

void Service::store_one(proto::node::StoreRequest s, std::function<void(Holders)> done, Fail fail, Quorum quorum,
                        int round) {
    auto mailbox = s.mailbox;
    auto members = quorum == Quorum::members ? members_of(mailbox).size() : 0;
    auto retry = [this, s, done, fail, quorum, members, round](sdk::Result<sw::MemberAnswers> r) mutable {
        if (!r) return fail(network_error(r.error()));
        // A majority of the members that answered must hold it: one hostile member answering ok
        // (and dropping it) or asking an absurd price neither counts nor sets the price.
        auto verdict = judge_store(r.value().answers, kMaxWorkHashes, members);
        if (verdict.kind == StoreVerdict::Kind::stored) return done(Holders{verdict.stored, members});
        // Published state short of a majority of all members (some down), held by most of those
        // that answered: unsettled, the caller keeps it due and publishes it again until most
        // members hold it (a lone member that answered, perhaps hostile, cannot hide it).
        if (verdict.kind == StoreVerdict::Kind::taken) return done(Holders{verdict.stored, members});
        if (verdict.kind == StoreVerdict::Kind::refused || round >= kMaxWorkRounds)
            return fail(verdict.reason ? node_error(*verdict.reason)
                                       : sdk::Error{sdk::ErrorCode::unreachable, "no member of the swarm answered"});
        auto work = verdict.work;
        // A long solve shows on veil send's terminal (warnings are printed); a short one is only logged.
        if (work >= kSlowWorkHashes)
            ctx_.log().warn("the recipient's mailbox is flooded: paying proof of work of {} hashes (may take a while)", work);
        else
            ctx_.log().info("the recipient's mailbox is under pressure: paying proof of work of {} hashes", work);
        // Solved on the worker pool: the loop keeps serving while the nonce is searched.
        auto solved = std::make_shared<proto::node::StoreRequest>(std::move(s));
        auto found = std::make_shared<bool>(false);
        ctx_.run_blocking([solved, found, work, stop = stopping_] { *found = proto::node::solve_store_work(*solved, work, stop.get()); },
                          [this, solved, found, done, fail, quorum, round, stop = stopping_](std::exception_ptr e) {
                              if (stop->load()) return;  // the service is gone
                              if (e || !*found) return fail({sdk::ErrorCode::refused, "proof of work not solved"});
                              store_one(std::move(*solved), done, fail, quorum, round + 1);
                          });
    };
    ask(ctx_.bus(), sw::ToEveryMember{mailbox, proto::node::RequestBody(std::move(s))}, retry);
}

std::vector<proto::NodeEntry> Service::members_of(const proto::node::PublicKey& mailbox) const {
    if (!manifest_) return {};
    return manifest_->members(manifest_->swarm_for(mailbox));
}

void Service::to_every_member(const proto::node::PublicKey& mailbox, const proto::node::RequestBody& body,
                              std::function<void(std::vector<proto::node::Response>)> done, Fail fail) {
    ask(ctx_.bus(), sw::ToEveryMember{mailbox, body}, [done, fail](sdk::Result<sw::MemberAnswers> r) {
        if (!r) return fail(network_error(r.error()));
        std::vector<proto::node::Response> ok;
        const proto::node::Response* refused = nullptr;
        for (auto& a : r.value().answers) {
            if (a.status == proto::node::Status::ok) ok.push_back(std::move(a));
            else refused = &a;
        }
        if (ok.empty()) {
            return fail(refused ? node_error(*refused)
                                : sdk::Error{sdk::ErrorCode::unreachable, "network unreachable: no member of the swarm answered"});
        }
        done(std::move(ok));
    });
}

void Service::fetch_public(const crypto::VeilId& who, std::uint16_t ns,
                           std::function<void(std::vector<wire::Bytes>, ReadCoverage)> done, Fail fail, Answers answers) {
    read_public(who, ns, [done](std::vector<proto::node::MessageItem> items, ReadCoverage complete) {
        std::vector<wire::Bytes> blobs;
        for (auto& m : items) blobs.push_back(std::move(m.data));
        done(std::move(blobs), complete);
    }, fail, answers);
}

void Service::read_public(const crypto::VeilId& who, std::uint16_t ns,
                          std::function<void(std::vector<proto::node::MessageItem>, ReadCoverage)> done, Fail fail, Answers answers) {
    // Every member, every page: the newest list wins even if replication has not reached them
    // all, and nothing is missed however many items a namespace holds, up to each member's share
    // of kMaxPublicBytes (public_gather.hpp): a hostile member cannot make us hold more.
    with_manifest([this, who, ns, done, fail, answers] {
        auto members = members_of(who.x25519);
        if (members.empty()) return fail(no_swarm());
        struct Gather {
            explicit Gather(std::size_t n) : pages(std::make_shared<PublicGather>(n)), left(n) {}
            std::shared_ptr<PublicGather> pages;
            std::size_t left = 0;
            std::size_t answered = 0;
            std::size_t complete = 0;  // answered and said it had no more
            std::optional<sdk::Error> last_error;
        };
        auto g = std::make_shared<Gather>(members.size());
        auto needed = answers == Answers::majority ? members.size() / 2 + 1 : 1;
        for (std::size_t i = 0; i < members.size(); ++i) {
            auto until = clock_() + kMaxPublicReadMs;
            public_pages(members[i], Account::public_fetch(who, ns), g->pages, i, until, [g, done, fail, needed, total = members.size()](std::optional<sdk::Error> error, bool complete) {
                if (error) {
                    g->last_error = std::move(error);
                } else {
                    ++g->answered;
                    if (complete) ++g->complete;
                }
                if (--g->left > 0) return;
                if (g->answered == 0) return fail(*g->last_error);
                if (g->answered < needed) {
                    return fail({sdk::ErrorCode::unreachable, "network unreachable: only " + std::to_string(g->answered) +
                                                                  " of the swarm's members answered, " +
                                                                  std::to_string(needed) + " needed"});
                }
                done(g->pages->take(), ReadCoverage{g->complete, total});
            });
        }
    }, fail);
}

void Service::public_pages(const proto::NodeEntry& member, proto::node::RetrieveRequest q,
                           std::shared_ptr<PublicGather> pages, std::size_t index, std::uint64_t until_ms,
                           std::function<void(std::optional<sdk::Error>, bool)> done) {
    ask(ctx_.bus(), sw::ToNode{member, q}, [this, member, q, pages, index, until_ms, done](sdk::Result<proto::node::Response> r) mutable {
        if (!r) return done(network_error(r.error()), false);
        if (r.value().status != proto::node::Status::ok) return done(node_error(r.value()), false);
        auto& page = std::get<proto::node::PageResponse>(r.value().body);
        bool more = page.more && !page.messages.empty();
        if (more) q.page.after = page.messages.back().hash;
        // A cursor means something only on the node that gave it, so the pages come from one member.
        // Bounded in pages and time: a member serving one item a page cannot hold the round.
        bool room = pages->add_page(index, std::move(page.messages));
        if (!more) return done(std::nullopt, true);
        if (!room || clock_() >= until_ms) return done(std::nullopt, false);
        public_pages(member, q, pages, index, until_ms, done);
    });
}

void Service::fetch_device_list(const crypto::VeilId& who, std::function<void(crypto::DeviceList)> done, Fail fail,
                                Answers answers) {
    fetch_device_lists(who, [done](std::vector<crypto::DeviceList> lists) { done(newest_of(std::move(lists))); },
                       std::move(fail), answers);
}

void Service::fetch_device_lists(const crypto::VeilId& who, std::function<void(std::vector<crypto::DeviceList>)> done,
                                 Fail fail, Answers answers) {
    fetch_public(who, kDeviceListNamespace, [who, done, fail, answers](std::vector<wire::Bytes> lists, ReadCoverage coverage) {
        auto valid = valid_device_lists(who, lists, now_ms());
        // Only lists from the future: not "no list" (a restore would start a new chain).
        if (valid.empty()) {
            if (auto clock = device_list_clock_error(who, lists, now_ms())) return fail({sdk::ErrorCode::refused, *clock});
        }
        // "None" lets an unnamed device's message be dropped, and decides a restore (a new
        // chain, where every member must agree): a member that did not answer may hold the list.
        if (valid.empty() && !absence_agreed(coverage, answers == Answers::majority)) {
            return fail({sdk::ErrorCode::unreachable, "too few members of the swarm gave a complete read, and none of "
                                                      "those that did holds a device list"});
        }
        if (valid.empty()) {
            return fail({sdk::ErrorCode::not_found, "no device list is published for " + who.str() + " (is the ID right?)"});
        }
        done(std::move(valid));
    }, fail, answers);
}

void Service::fetch_person(const crypto::VeilId& who, std::function<void(PersonKeys)> done, Fail fail) {
    fetch_device_list(who, [this, who, done, fail](crypto::DeviceList list) {
        fetch_bundles(who, list, [list, done](Bundles bundles) { done(PersonKeys{list, std::move(bundles)}); }, fail);
    }, fail);
}

void Service::fetch_bundles(const crypto::VeilId& who, const crypto::DeviceList& list, std::function<void(Bundles)> done,
                            Fail fail) {
    fetch_public(who, kBundleNamespace, [who, list, done](std::vector<wire::Bytes> blobs, ReadCoverage) {
        done(newest_bundles(who, list, blobs, now_ms()));
    }, std::move(fail));
}

void Service::publish(const AccountPtr& account, std::function<void(Holders)> done, Fail fail) {
    // First what the swarm holds: a list another device signed meanwhile, or one that forked
    // from ours (this device restored from an old backup and changed its copy), is joined, not
    // overwritten, so no device another list revoked becomes active again (issue 14).
    // Unless most members gave a complete read, a fork held by the others may be missed: stored
    // all the same, but left due (unsettled) and published again, joining once they answer.
    fetch_public(account->id(), kDeviceListNamespace, [this, account, done, fail](std::vector<wire::Bytes> blobs,
                                                                                  ReadCoverage coverage) {
        for (const auto& list : valid_device_lists(account->id(), blobs, now_ms())) account->adopt_device_list(list);
        store_published(account, absence_agreed(coverage, false), done, fail);
    }, [this, account, done, fail](const sdk::Error&) { store_published(account, false, done, fail); });
}

void Service::store_published(const AccountPtr& account, bool read_complete, std::function<void(Holders)> done,
                              Fail fail) {
    auto now = now_ms();
    std::vector<proto::node::StoreRequest> stores;
    try {
        stores = account->publish_requests(now);
    } catch (const crypto::Error& e) {
        return fail({sdk::ErrorCode::internal, std::string("cannot make the pre-key bundle: ") + e.what()});
    }
    // On every member at once (store_all), so a reader that asks any of them right after sees
    // the new device list and bundle.
    auto bundle = stores.at(1).data;
    // Settled once a majority of the swarm's members stored them (not only of those that
    // answered): a later `init --restore` needs a majority to answer, and the two majorities
    // meet. Short of that (members down) it stays due (dirty) and is published again.
    store_each(std::move(stores), [this, account, now, bundle, read_complete, done](Holders holders) {
        holders.read_complete = read_complete;
        if (!holders.settled()) return done(holders);
        account->mark_published(now);
        prune_published(account, bundle, [done, holders] { done(holders); });
    }, fail, Quorum::members);
}

void Service::prune_published(const AccountPtr& account, const wire::Bytes& bundle, std::function<void()> done) {
    // Best effort: what is left behind expires with its TTL; a reader picks the newest anyway.
    auto left = std::make_shared<int>(2);
    auto one_done = [left, done] {
        if (--*left == 0) done();
    };
    auto warn = [this, one_done](const sdk::Error& e) {
        ctx_.log().debug("superseded published state not deleted: {}", e.message);
        one_done();
    };
    auto id = account->id();
    auto current = account->device_list();
    auto device = account->device().signing_key();
    for (auto ns : {kDeviceListNamespace, kBundleNamespace}) {
        read_public(id, ns, [this, account, ns, id, current, device, bundle, one_done, warn](std::vector<proto::node::MessageItem> items, ReadCoverage) {
            auto hashes = ns == kDeviceListNamespace ? superseded_lists(id, current, items)
                                                     : superseded_bundles(id, device, bundle, items, now_ms());
            if (hashes.empty()) return one_done();
            to_every_member(id.x25519, account->identity_delete_request(ns, std::move(hashes), now_ms()),
                            [one_done](std::vector<proto::node::Response>) { one_done(); }, warn);
        }, warn);
    }
}

void Service::fetch_inbox(const AccountPtr& account, std::function<void(std::vector<proto::node::MessageItem>)> done,
                          Fail fail) {
    fetch_owned(account->inbox(), [account](std::optional<proto::node::Hash> after) {
        return account->inbox_request(after, now_ms());
    }, nullptr, [done](std::vector<proto::node::MessageItem> items, proto::PublicKey) { done(std::move(items)); },
                std::move(fail));
}

void Service::fetch_group_mailbox(std::shared_ptr<const crypto::SigningKeyPair> owner, GroupCursor start,
                                  std::function<void(std::vector<proto::node::MessageItem>, proto::PublicKey)> done,
                                  Fail fail) {
    fetch_owned(owner->pub, [owner](std::optional<proto::node::Hash> after) {
        proto::node::RetrieveRequest q;
        q.mailbox = owner->pub;
        q.ns = proto::node::kEnvelopeNamespace;
        q.page.after = after;
        q.page.max_count = kGroupPageCount;
        proto::node::RequestBody body = q;
        proto::node::sign_owner_request(body, *owner, now_ms());
        return std::get<proto::node::RetrieveRequest>(body);
    }, std::move(start), std::move(done), std::move(fail));
}

void Service::fetch_owned(const proto::node::PublicKey& mailbox, PageRequest request, GroupCursor start, OwnedDone done,
                          Fail fail) {
    with_manifest([this, mailbox, request, start, done, fail] {
        auto members = std::make_shared<std::vector<proto::NodeEntry>>(members_of(mailbox));
        if (members->empty()) return fail(no_swarm());
        for (std::size_t i = members->size(); i > 1; --i) {
            std::swap((*members)[i - 1], (*members)[randombytes_uniform(static_cast<std::uint32_t>(i))]);
        }
        auto first = start ? start((*members)[0].ed25519) : std::nullopt;
        owned_page(request, start, members, 0, first, std::make_shared<std::vector<proto::node::MessageItem>>(), done,
                   fail);
    }, fail);
}

// Pages through one member only: a cursor (the last hash) means something only on the node that
// gave it. A member that fails is replaced by the next, from the first page.
void Service::owned_page(PageRequest request, GroupCursor start, std::shared_ptr<std::vector<proto::NodeEntry>> members,
                         std::size_t member, std::optional<proto::node::Hash> after,
                         std::shared_ptr<std::vector<proto::node::MessageItem>> acc, OwnedDone done, Fail fail) {
    auto q = request(after);
    ask(ctx_.bus(), sw::ToNode{(*members)[member], q},
        [this, request, start, members, member, acc, done, fail, mailbox = q.mailbox, ns = q.ns](sdk::Result<proto::node::Response> r) {
        if (!r || r.value().status != proto::node::Status::ok) {
            if (member + 1 < members->size()) {
                acc->clear();
                auto first = start ? start((*members)[member + 1].ed25519) : std::nullopt;
                return owned_page(request, start, members, member + 1, first, acc, done, fail);
            }
            return fail(!r ? network_error(r.error()) : node_error(r.value()));
        }
        auto& page = std::get<proto::node::PageResponse>(r.value().body);
        const auto node = (*members)[member].ed25519;
        if (page.messages.empty()) return done(std::move(*acc), node);
        auto cursor = page.messages.back().hash;  // the node's own name for its place, forged or not
        count_forged(drop_forged(mailbox, ns, page.messages));
        for (auto& m : page.messages) acc->push_back(std::move(m));
        if (!page.more || acc->size() > 10'000) return done(std::move(*acc), node);
        owned_page(request, start, members, member, cursor, acc, done, fail);
    });
}

void Service::fetch_inbox_everywhere(const AccountPtr& account,
                                     std::function<void(std::vector<proto::node::MessageItem>)> done, Fail fail) {
    with_manifest([this, account, done, fail] {
        // One signed retrieve to each member (each node checks its replay window on its own).
        to_every_member(account->inbox(), account->inbox_request(std::nullopt, now_ms()),
                        [this, account, done](std::vector<proto::node::Response> answers) {
            std::vector<std::vector<proto::node::MessageItem>> pages;
            for (auto& a : answers) {
                if (auto* page = std::get_if<proto::node::PageResponse>(&a.body)) pages.push_back(std::move(page->messages));
            }
            std::size_t forged = 0;
            auto items = merge_genuine(account->inbox(), kInboxNamespace, std::move(pages), &forged);
            count_forged(forged);
            done(std::move(items));
        }, fail);
    }, fail);
}

void Service::wait_inbox(const AccountPtr& account, std::uint32_t wait_ms,
                         std::function<void(std::vector<proto::node::MessageItem>, bool)> woken) {
    // The node holds the long-poll up to 7 s; the request's deadline must outlast it on the first
    // path. The onion transport keeps up to 2 s of a deadline back for each of its two later
    // attempts (OnionClientOptions::retry_reserve_ms), so a 10 s deadline gave the first path
    // 6 s: every idle long-poll timed out on the client's side before the node answered, was
    // sent twice more on other paths and counted against the guard (issue 18: one onion request
    // every ~2 s when idle). Hence 7 s + 2 s for the hops + 2 x 2 s kept back.
    constexpr std::uint32_t kMaxSubscribeWaitMs = 7'000;
    constexpr std::uint32_t kSubscribeTimeoutMs = kMaxSubscribeWaitMs + 2'000 + 2 * 2'000;
    auto started = now_ms();
    auto members = members_of(account->inbox());
    auto held = inbox_member_ && std::any_of(members.begin(), members.end(), [this](const proto::NodeEntry& m) {
        return m.ed25519 == inbox_member_->ed25519;
    });
    if (!held) {
        inbox_after_.reset();  // a cursor means something only on the node that gave it
        inbox_member_.reset();
        // Another member than the one just left, when there is another.
        if (left_member_ && members.size() > 1) {
            std::erase_if(members, [this](const proto::NodeEntry& m) { return m.ed25519 == *left_member_; });
        }
        if (!members.empty()) inbox_member_ = members[randombytes_uniform(static_cast<std::uint32_t>(members.size()))];
    }
    // Polling fallback: never spin faster than twice a second; the next subscribe goes elsewhere.
    auto failed = [this, woken, started] {
        inbox_member_.reset();
        inbox_after_.reset();
        auto spent = now_ms() - started;
        ctx_.set_timeout(spent >= 500 ? 0 : 500 - spent, [woken] { woken({}, false); });
    };
    if (!inbox_member_) return failed();
    auto q = account->subscribe_request(std::min(wait_ms, kMaxSubscribeWaitMs), started, inbox_after_);
    ask(ctx_.bus(), sw::ToNode{*inbox_member_, std::move(q), kSubscribeTimeoutMs},
        [this, account, woken, failed, member = inbox_member_->ed25519](sdk::Result<proto::node::Response> r) {
        auto* page = r && r.value().status == proto::node::Status::ok ? std::get_if<proto::node::PageResponse>(&r.value().body)
                                                                       : nullptr;
        if (!page) return failed();
        // Everything up to its last hash is now in the caller's hands (read, or read before).
        if (!page->messages.empty() && inbox_member_ && inbox_member_->ed25519 == member)
            inbox_after_ = page->messages.back().hash;
        bool had_items = !page->messages.empty();
        auto forged = drop_forged(account->inbox(), kInboxNamespace, page->messages);
        count_forged(forged);
        // Only forged items: this member lies; leave it as if it had failed (the pause included).
        if (had_items && page->messages.empty()) return failed();
        woken(std::move(page->messages), !page->more);
    });
}

void Service::leave_inbox_member() {
    if (inbox_member_) left_member_ = inbox_member_->ed25519;
    inbox_member_.reset();
    inbox_after_.reset();
}

void Service::count_forged(std::size_t n) {
    if (n == 0) return;
    forged_items_ += n;
    ctx_.log().warn("a service node answered {} item(s) whose data does not match their hash; dropped ({} so far)", n,
                    forged_items_);
}

void Service::delete_inbox(const AccountPtr& account, std::vector<proto::node::Hash> hashes, std::function<void()> done,
                           Fail fail) {
    if (hashes.empty()) return done();
    constexpr std::size_t kPerRequest = 500;
    auto state = std::make_shared<std::size_t>((hashes.size() + kPerRequest - 1) / kPerRequest);
    auto failed = std::make_shared<bool>(false);
    for (std::size_t i = 0; i < hashes.size(); i += kPerRequest) {
        std::vector<proto::node::Hash> part(hashes.begin() + static_cast<std::ptrdiff_t>(i),
                                     hashes.begin() + static_cast<std::ptrdiff_t>(std::min(hashes.size(), i + kPerRequest)));
        ask(ctx_.bus(), sw::ToSwarm{account->inbox(), account->delete_request(std::move(part), now_ms())},
            [state, failed, done, fail](sdk::Result<proto::node::Response> r) {
                if (*failed) return;
                if (!r || r.value().status != proto::node::Status::ok) {
                    *failed = true;
                    return fail(!r ? network_error(r.error()) : node_error(r.value()));
                }
                if (--*state == 0) done();
            });
    }
}

}  // namespace veil::messenger
