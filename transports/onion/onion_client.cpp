#include "onion_client.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "veil/crypto/random.hpp"
#include "relay.hpp"

namespace veil::onion {

namespace tr = sdk::transport;
using sdk::ErrorCode;
using sdk::Result;

namespace {

PathBuilder::Options path_options(const OnionClientOptions& o) {
    PathBuilder::Options p;
    p.guard_lifetime_ms = o.guard_lifetime_ms;
    p.strike_ms = o.strike_ms;
    p.hops = o.hops;
    return p;
}

}  // namespace

struct OnionClient::Attempt {
    tr::Request request;
    NodeInfo destination;
    Done done;
    std::uint64_t deadline_ms = 0;
    std::size_t tries = 0;
    sdk::Error last_error{ErrorCode::unreachable, "onion: no path"};
};

OnionClient::OnionClient(uv_loop_t* loop, OnionClientOptions options)
    : options_(options), paths_(path_options(options)), bias_(options.path_bias), guards_(loop, [&] {
          sdk::net::ClientOptions o;
          o.max_frame_bytes = options.max_blob_bytes + 1024;
          o.connect_timeout_ms = options.connect_timeout_ms;
          return o;
      }()) {}

OnionClient::~OnionClient() { *alive_ = false; }

bool OnionClient::struck(const Key32& node_id) const { return paths_.struck(node_id, wall_clock_ms()); }

void OnionClient::set_nodes(std::vector<NodeInfo> nodes) {
    nodes_.clear();
    std::vector<Candidate> candidates;
    for (auto& n : nodes) {
        candidates.push_back({Hop{n.ed25519, n.x25519, n.address}, n.swarm});
        nodes_[n.ed25519] = std::move(n);
    }
    paths_.set_candidates(std::move(candidates));
    // Keep only ready paths whose every hop is still listed at the same address.
    std::erase_if(ready_, [&](const Path& p) {
        return std::any_of(p.begin(), p.end(), [&](const Hop& h) {
            auto it = nodes_.find(h.node_id);
            return it == nodes_.end() || it->second.address != h.address;
        });
    });
    guards_.retain_if([&](const std::string& address) {
        return std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.second.address == address; });
    });
}

std::optional<Path> OnionClient::take_path(const Key32& destination, bool public_content) {
    auto now = wall_clock_ms();
    // A public request to the guard itself goes to it over one hop: any other path would show
    // the client's address to a node other than its guard.
    if (public_content && paths_.guard() && paths_.guard()->node_id == destination && !paths_.struck(destination, now))
        return Path{};
    auto through_destination = [&](const Path& p) {
        return std::any_of(p.begin(), p.end(), [&](const Hop& h) { return h.node_id == destination; });
    };
    // A ready path through a struck node (or an old guard) is no longer ready.
    auto guard = paths_.guard();
    std::erase_if(ready_, [&](const Path& p) {
        return (guard && p.front().node_id != guard->node_id) ||
               std::any_of(p.begin(), p.end(), [&](const Hop& h) { return paths_.struck(h.node_id, now); });
    });
    while (ready_.size() < options_.ready_paths) {
        auto path = paths_.build(now);
        if (!path) break;
        ready_.push_back(std::move(*path));
    }
    // Use a ready path that does not pass through the destination, at random.
    std::vector<std::size_t> usable;
    for (std::size_t i = 0; i < ready_.size(); ++i) {
        if (!through_destination(ready_[i])) usable.push_back(i);
    }
    if (!usable.empty()) return ready_[usable[crypto::random_index(usable.size())]];
    return paths_.build(now, {destination});
}

void OnionClient::send(const tr::Request& request, Done done) {
    ++stats_.requests;
    Key32 dest_key{};
    std::size_t parsed = 0;
    if (request.to.node_key_hex.size() != 64 ||
        sodium_hex2bin(dest_key.data(), dest_key.size(), request.to.node_key_hex.data(), 64, nullptr, &parsed,
                       nullptr) != 0 ||
        parsed != 32) {
        ++stats_.failures;
        done(sdk::Error{ErrorCode::bad_input, "onion: destination key is not 64 hex characters"});
        return;
    }
    auto it = nodes_.find(dest_key);
    if (it == nodes_.end()) {
        ++stats_.failures;
        done(sdk::Error{ErrorCode::bad_input, "onion: destination is not in the manifest"});
        return;
    }
    auto attempt = std::make_shared<Attempt>();
    attempt->request = request;
    attempt->destination = it->second;
    attempt->done = std::move(done);
    attempt->deadline_ms = monotonic_ms() + (request.timeout_ms ? request.timeout_ms : tr::kDefaultTimeoutMs);
    try_path(std::move(attempt));
}

void OnionClient::try_path(std::shared_ptr<Attempt> attempt) {
    auto now = monotonic_ms();
    if (attempt->tries >= options_.attempts || now >= attempt->deadline_ms) {
        ++stats_.failures;
        attempt->done(attempt->last_error);
        return;
    }
    auto path = take_path(attempt->destination.ed25519, attempt->request.public_content);
    if (!path) {
        ++stats_.failures;
        attempt->done(sdk::Error{ErrorCode::unreachable, "onion: the manifest has too few usable nodes"});
        return;
    }
    ++attempt->tries;
    ++stats_.attempts;
    const auto& dest = attempt->destination;
    SealedRequest sealed;
    try {
        sealed = seal_request(*path, Hop{dest.ed25519, dest.x25519, dest.address}, attempt->request.service,
                              attempt->request.body, wall_clock_ms());
    } catch (const std::length_error&) {
        ++stats_.failures;
        attempt->done(sdk::Error{ErrorCode::too_large, "onion: request too large"});
        return;
    }
    auto keys = std::make_shared<ReturnKeys>(std::move(sealed.keys));
    Path used = *path;
    // Keep a reserve of what is left of the deadline for each later attempt, so that a guard
    // that swallows a request leaves time for a retry, while a long-poll still gets most of it.
    std::uint64_t remaining = attempt->deadline_ms - now;
    std::uint64_t later = options_.attempts - attempt->tries;
    std::uint64_t reserve = std::min<std::uint64_t>(options_.retry_reserve_ms, remaining / (later + 1));
    std::uint64_t budget_ms = std::max<std::uint64_t>(remaining - later * reserve, 1);
    // The first hop: the guard (or the destination itself on a one-hop path).
    auto guard = guards_.get(used.empty() ? dest.address : used.front().address);
    if (!guard) {
        ++stats_.failures;
        attempt->done(sdk::Error{ErrorCode::bad_input, "onion: the manifest lists a bad guard address"});
        return;
    }
    guard.value()
        ->request(tr::encode_service_request(kOnionService, sealed.blob), budget_ms,
                 [this, alive = alive_, attempt, keys, used](Result<wire::Bytes> r) {
                     if (!*alive) return;
                     // Strikes the node of the path that failed (index into `used`; none if
                     // unknown) and tries again on another path.
                     auto retry = [&](sdk::Error error, std::optional<std::size_t> failed) {
                         if (failed && *failed < used.size()) paths_.strike(used[*failed].node_id, wall_clock_ms());
                         // A one-hop path's first hop is the guard, as the destination.
                         if (failed == 0u && used.empty()) paths_.strike(attempt->destination.ed25519, wall_clock_ms());
                         std::erase(ready_, used);
                         attempt->last_error = std::move(error);
                         try_path(attempt);
                     };
                     // Path-bias accounting of an attempt through the guard (none on a one-hop
                     // path, whose only node is the guard itself): true when it blames the guard.
                     auto account = [&](bool verified) {
                         if (used.empty()) return false;
                         std::vector<Key32> beyond;
                         for (std::size_t i = 1; i < used.size(); ++i) beyond.push_back(used[i].node_id);
                         beyond.push_back(attempt->destination.ed25519);
                         return bias_.record(used.front().node_id, std::move(beyond), verified);
                     };
                     // An answer nobody can be shown to have spoiled: any hop past the guard may
                     // have garbled it, so it strikes the guard only through path bias.
                     auto unverified = [&](sdk::Error error) {
                         bool blame = used.empty() || account(false);
                         retry(std::move(error), blame ? std::optional<std::size_t>(0) : std::nullopt);
                     };
                     if (!r && r.error().code == ErrorCode::timeout) {
                         // Our budget ran out long before a relay's hop timeout: any hop past the
                         // guard may be holding the request, so only path bias blames the guard.
                         return unverified(sdk::Error{ErrorCode::timeout, "onion: no answer in time"});
                     }
                     if (!r) {
                         // No connection to the guard (refused, or the connect timed out): its fault.
                         return retry(sdk::Error{ErrorCode::unreachable,
                                                 "onion: guard failed (" + std::string(sdk::to_string(r.error().code)) + ")"},
                                      0);
                     }
                     auto outer = tr::decode_service_response(r.value(), options_.max_blob_bytes);
                     if (!outer) return retry(sdk::Error{ErrorCode::bad_input, "onion: malformed answer from the guard"}, 0);
                     if (outer.value().status != tr::Status::ok) {
                         // The guard refused the request itself (busy, bad layer). Unauthenticated,
                         // so it blames nobody else; the guard is kept (a busy guard is no reason
                         // to rotate) and another path is tried.
                         return retry(sdk::Error{ErrorCode::unreachable, "onion: the guard refused the request"},
                                      std::nullopt);
                     }
                     Answer answer;
                     try {
                         answer = open_answer(*keys, outer.value().body);
                     } catch (const LayerError&) {
                         return unverified(sdk::Error{ErrorCode::bad_input, "onion: answer failed authentication"});
                     }
                     account(true);
                     if (answer.failure) {
                         // Relay `from` proved that its next hop failed.
                         std::size_t failed = answer.from + 1;
                         if (failed == used.size()) {
                             // The destination itself: another path will not help; the caller
                             // (e.g. the swarm client) moves on to another node.
                             ++stats_.failures;
                             return attempt->done(sdk::Error{ErrorCode::unreachable, "onion: the destination node did not answer"});
                         }
                         return retry(sdk::Error{ErrorCode::unreachable, "onion: a relay on the path failed"}, failed);
                     }
                     auto inner = tr::decode_service_response(answer.reply, options_.max_blob_bytes);
                     if (!inner) return retry(sdk::Error{ErrorCode::bad_input, "onion: malformed answer"}, std::nullopt);
                     attempt->done(std::move(inner.value()));
                 });
}

}  // namespace veil::onion
