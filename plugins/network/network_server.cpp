#include "network_server.hpp"

#include "veil/sdk/network.hpp"
#include "veil/sdk/swarm.hpp"

namespace veil::network {

namespace sw = sdk::swarm;
namespace net = sdk::network;
using sdk::ErrorCode;

namespace {

constexpr std::uint64_t kRefreshWhileWaitingMs = 1'000;
const sdk::Error kNoManifest{ErrorCode::not_found, "no network manifest yet: no service node answered with a valid one"};

}  // namespace

NetworkServer::NetworkServer(sdk::Context& ctx, ManifestSource& source)
    : ctx_(ctx),
      source_(source),
      manifest_(source.manifest() ? std::make_shared<const proto::Manifest>(*source.manifest()) : nullptr),
      swarms_(ctx.bus(), [this] { return manifest_.get(); }) {
    serve();
}

NetworkServer::~NetworkServer() {
    // Waiting requesters learn `abandoned` when their responders go with the waiters.
    for (auto& [id, w] : waiters_) ctx_.cancel_timer(w.timer);
    if (refresher_) ctx_.cancel_timer(refresher_);
}

void NetworkServer::manifest_accepted(std::shared_ptr<const proto::Manifest> manifest) {
    manifest_ = std::move(manifest);
    if (refresher_) ctx_.cancel_timer(std::exchange(refresher_, 0));
    auto waiters = std::exchange(waiters_, {});
    for (auto& [id, w] : waiters) {
        ctx_.cancel_timer(w.timer);
        w.then(true);
    }
}

void NetworkServer::when_manifest(std::uint64_t wait_ms, std::function<void(bool)> then) {
    if (manifest_) return then(true);
    if (wait_ms == 0) return then(false);
    auto id = next_waiter_++;
    auto timer = ctx_.set_timeout(wait_ms, [this, id] { expire(id); });
    waiters_.emplace(id, Waiter{timer, std::move(then)});
    if (!refresher_) {
        source_.refresh();
        refresher_ = ctx_.set_interval(kRefreshWhileWaitingMs, [this] { source_.refresh(); });
    }
}

void NetworkServer::expire(std::uint64_t id) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    auto then = std::move(it->second.then);
    waiters_.erase(it);
    if (waiters_.empty() && refresher_) ctx_.cancel_timer(std::exchange(refresher_, 0));
    then(false);
}

// GCC 12 sees a false -Wmaybe-uninitialized when an Error is copied out of a
// Result<proto::node::Response> (a std::variant) inside these callbacks.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (and errors on the name)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
void NetworkServer::serve() {
    ctx_.serve<net::GetManifest>([this](const net::GetManifest& q, sdk::Responder<net::ManifestReply> r) {
        when_manifest(q.wait_ms, [this, r](bool held) {
            if (!held) return r.fail(kNoManifest);
            r.reply({manifest_->version, manifest_, source_.envelope()});
        });
    });
    ctx_.serve<sw::ToSwarm>([this](const sw::ToSwarm& q, sdk::Responder<proto::node::Response> r) {
        when_manifest(q.timeout_ms, [this, q, r](bool held) mutable {
            if (!held) return r.fail(kNoManifest);
            swarms_.to_swarm(q.mailbox, std::move(q.body), q.timeout_ms, [r](sdk::Result<proto::node::Response> a) {
                if (!a) return r.fail(a.error());
                r.reply(std::move(a).value());
            }, q.attempts);
        });
    });
    ctx_.serve<sw::ToEveryMember>([this](const sw::ToEveryMember& q, sdk::Responder<sw::MemberAnswers> r) {
        when_manifest(q.timeout_ms, [this, q, r](bool held) {
            if (!held) return r.fail(kNoManifest);
            swarms_.to_every_member(q.mailbox, q.body, q.timeout_ms,
                                    [r](sdk::Result<std::vector<proto::node::Response>> a) {
                                        if (!a) return r.fail(a.error());
                                        r.reply({std::move(a).value()});
                                    });
        });
    });
    ctx_.serve<sw::ToNode>([this](const sw::ToNode& q, sdk::Responder<proto::node::Response> r) {
        swarms_.to_node(q.node, q.body, q.timeout_ms, [r](sdk::Result<proto::node::Response> a) {
            if (!a) return r.fail(a.error());
            r.reply(std::move(a).value());
        });
    });
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace veil::network
