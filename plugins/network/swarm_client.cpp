#include "swarm_client.hpp"


#include <algorithm>

#include "veil/crypto/random.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

namespace tr = sdk::transport;
using sdk::ErrorCode;

struct SwarmClient::Call {
    proto::node::RequestBody body;
    proto::node::Method method{};
    std::vector<proto::NodeEntry> candidates;  // untried members, tried from the back
    std::size_t attempts_left = 0;
    std::uint32_t timeout_ms = 0;
    Done done;
    sdk::Error last{ErrorCode::unreachable, "no member of the swarm answered"};
};

SwarmClient::SwarmClient(sdk::Bus& bus, std::function<const proto::Manifest*()> manifest)
    : bus_(bus), manifest_(std::move(manifest)) {}

SwarmClient::~SwarmClient() { *alive_ = false; }

namespace {

tr::Destination destination_of(const proto::NodeEntry& n) {
    return {wire::to_hex(n.ed25519), proto::address_of(n)};
}

// The entries of a redirect that the manifest lists with the same key, host and port.
std::vector<proto::NodeEntry> known_members(const proto::Manifest* m, const std::vector<proto::NodeEntry>& named) {
    std::vector<proto::NodeEntry> out;
    if (!m) return out;
    for (const auto& n : named) {
        const auto* mine = m->find(n.ed25519);
        if (mine && mine->host == n.host && mine->port == n.port) out.push_back(*mine);
    }
    return out;
}

}  // namespace

void SwarmClient::to_swarm(const proto::node::PublicKey& mailbox, proto::node::RequestBody body,
                           std::uint32_t timeout_ms, Done done, std::size_t attempts) {
    const auto* m = manifest_();
    if (!m) {
        done(sdk::Error{ErrorCode::not_found, "no network manifest yet"});
        return;
    }
    auto call = std::make_shared<Call>();
    call->method = proto::node::method_of(body);
    call->body = std::move(body);
    call->candidates = m->members(m->swarm_for(mailbox));
    crypto::shuffle(call->candidates);
    call->attempts_left = attempts;
    call->timeout_ms = timeout_ms;
    call->done = std::move(done);
    if (call->candidates.empty()) {
        call->done(sdk::Error{ErrorCode::unreachable, "the manifest has no swarm for this mailbox"});
        return;
    }
    attempt(std::move(call));
}

// GCC 12 sees a false -Wmaybe-uninitialized when an Error is copied out of a
// Result<proto::node::Response> (a std::variant) inside these callbacks.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (and errors on the name)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
void SwarmClient::to_every_member(const proto::node::PublicKey& mailbox, const proto::node::RequestBody& body,
                                  std::uint32_t timeout_ms, AllDone done) {
    const auto* m = manifest_();
    if (!m) return done(sdk::Error{ErrorCode::not_found, "no network manifest yet"});
    auto members = m->members(m->swarm_for(mailbox));
    if (members.empty()) return done(sdk::Error{ErrorCode::unreachable, "the manifest has no swarm for this mailbox"});
    struct State {
        std::size_t left;
        std::vector<proto::node::Response> answers;
        sdk::Error last;
        AllDone done;
    };
    auto state = std::make_shared<State>(State{members.size(), {}, {}, std::move(done)});
    for (const auto& member : members) {
        to_node(member, body, timeout_ms, [state](sdk::Result<proto::node::Response> r) {
            if (!r) {
                state->last = r.error();
            } else {
                state->answers.push_back(std::move(r).value());
            }
            if (--state->left > 0) return;
            if (state->answers.empty()) return state->done(std::move(state->last));
            state->done(std::move(state->answers));
        });
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void SwarmClient::to_node(const proto::NodeEntry& target, proto::node::RequestBody body, std::uint32_t timeout_ms,
                          Done done) {
    auto call = std::make_shared<Call>();
    call->method = proto::node::method_of(body);
    call->body = std::move(body);
    call->candidates = {target};
    call->attempts_left = 1;
    call->timeout_ms = timeout_ms;
    call->done = std::move(done);
    attempt(std::move(call));
}

void SwarmClient::attempt(std::shared_ptr<Call> call) {
    if (call->candidates.empty() || call->attempts_left == 0) {
        call->done(call->last);
        return;
    }
    auto target = call->candidates.back();
    call->candidates.pop_back();
    --call->attempts_left;
    std::uint32_t id = next_id_++;
    tr::Request req;
    req.to = destination_of(target);
    req.service = "storage";
    req.body = proto::node::encode_request({id, call->body});
    req.timeout_ms = call->timeout_ms;
    bool queued = bus_.request<tr::Request>(std::move(req), 0, [this, alive = alive_, call](sdk::Result<tr::Response> r) {
        if (!*alive) return;
        if (!r) {
            call->last = r.error();
            return attempt(call);
        }
        if (r.value().status != tr::Status::ok) {
            std::string text(r.value().body.begin(), r.value().body.end());
            call->last = sdk::Error{ErrorCode::handler_failed, text.empty() ? "the node has no storage service" : text};
            return attempt(call);
        }
        proto::node::Response response;
        try {
            response = proto::node::decode_response(call->method, r.value().body);
        } catch (const wire::DecodeError& e) {
            call->last = sdk::Error{ErrorCode::bad_input, std::string("malformed node answer: ") + e.what()};
            return attempt(call);
        }
        if (response.status == proto::node::Status::wrong_swarm) {
            // Our manifest is stale: the node names the right swarm's members. Follow only those
            // our manifest knows with the same key and address (a lying node cannot send us to
            // an endpoint of its choosing).
            const auto& swarm = std::get<proto::node::SwarmResponse>(response.body);
            call->candidates = known_members(manifest_(), swarm.members);
            crypto::shuffle(call->candidates);
            call->last = sdk::Error{ErrorCode::refused, "redirected to another swarm"};
            return attempt(call);
        }
        if (response.status == proto::node::Status::not_ready || response.status == proto::node::Status::internal) {
            call->last = sdk::Error{ErrorCode::refused, std::string("node: ") + proto::node::to_string(response.status)};
            return attempt(call);
        }
        call->done(std::move(response));
    });
    if (!queued) call->done(sdk::Error{ErrorCode::queue_full, "bus queue full"});
}

}  // namespace veil::network
