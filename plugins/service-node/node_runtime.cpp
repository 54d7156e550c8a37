#include "node_runtime.hpp"

#include <sodium.h>

#include <chrono>
#include <fstream>

#include "veil/proto/directory_rpc.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/sdk/inbound.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::node {

namespace {

constexpr std::uint64_t kPeerTimeoutMs = 10'000;
constexpr std::size_t kFetchBatch = 500;
constexpr std::size_t kMaxNodeFrameBytes = kMaxPeerBodyBytes + 4096;

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

std::string endpoint_of(const proto::NodeEntry& n) {
    return sdk::net::Endpoint{n.host, n.port}.to_string();
}

}  // namespace

/// Catch-up with every peer of the swarm, one after the other (see peer.hpp for the protocol).
class CatchUp final {
public:
    CatchUp(NodeRuntime& rt, std::vector<proto::NodeEntry> peers, SwarmId swarm)
        : rt_(rt), peers_(std::move(peers)), swarm_(swarm) {}

    void run() { next_peer(); }
    [[nodiscard]] bool finished() const { return finished_; }

private:
    using Next = std::function<void(std::optional<Bytes>)>;

    // Sends one peer request and hands the reply body (nullopt on any failure) to `next`.
    void send(const PeerBody& body, Next next) {
        auto& core = *rt_.core_;
        Request req{rt_.next_peer_id_++, PeerRequest{seal_peer(body, core.key, now_ms())}};
        rt_.client_for(peers_[index_]).request(
            encode_request(req), kPeerTimeoutMs, [next = std::move(next)](sdk::Result<Bytes> r) {
                if (!r) return next(std::nullopt);
                try {
                    auto resp = decode_response(Method::peer, r.value());
                    if (resp.status != Status::ok) return next(std::nullopt);
                    next(std::get<PeerResponse>(resp.body).body);
                } catch (const wire::DecodeError&) {
                    next(std::nullopt);
                }
            });
    }

    void next_peer() {
        if (index_ >= peers_.size()) {
            if (fetched_ || merged_) rt_.ctx_.log().info("catch-up done: {} messages fetched, {} states merged", fetched_, merged_);
            finished_ = true;
            return;
        }
        auto core = rt_.core_;
        auto local = std::make_shared<std::vector<MessageState>>();
        rt_.ctx_.run_blocking(
            [core, local] {
                *local = core->store.states(now_ms(), [&core](const PublicKey& mb) { return core->service.owns(mb); });
            },
            [this, local](std::exception_ptr e) {
                if (e) return skip_peer();
                local_ = std::move(*local);
                send(SummaryBody{swarm_}, [this](std::optional<Bytes> b) { on_summary(std::move(b)); });
            });
    }

    void skip_peer() {
        ++index_;
        next_peer();
    }

    void on_summary(std::optional<Bytes> body) {
        if (!body) return skip_peer();
        try {
            buckets_ = differing_buckets(summarize(local_), decode_summary(*body));
        } catch (const wire::DecodeError&) {
            return skip_peer();
        }
        bucket_i_ = 0;
        next_bucket();
    }

    void next_bucket() {
        if (bucket_i_ >= buckets_.size()) return skip_peer();
        send(BucketBody{swarm_, buckets_[bucket_i_]}, [this](std::optional<Bytes> b) { on_bucket(std::move(b)); });
    }

    void on_bucket(std::optional<Bytes> body) {
        if (!body) return skip_peer();
        CatchUpPlan plan;
        try {
            plan = plan_catch_up(bucket_states(local_, buckets_[bucket_i_]), decode_states(*body));
        } catch (const wire::DecodeError&) {
            return skip_peer();
        }
        auto core = rt_.core_;
        auto merge = std::make_shared<std::vector<MessageState>>(std::move(plan.merge));
        to_fetch_ = std::move(plan.fetch);
        fetch_pos_ = 0;
        merged_ += merge->size();
        rt_.ctx_.run_blocking(
            [core, merge] {
                for (const auto& s : *merge)
                    if (core->service.owns(s.mailbox)) core->store.merge(s, nullptr, now_ms());
            },
            [this](std::exception_ptr) { next_fetch(); });
    }

    void next_fetch() {
        if (fetch_pos_ >= to_fetch_.size()) {
            ++bucket_i_;
            return next_bucket();
        }
        auto end = std::min(to_fetch_.size(), fetch_pos_ + kFetchBatch);
        FetchBody f{std::vector<Hash>(to_fetch_.begin() + static_cast<std::ptrdiff_t>(fetch_pos_),
                                      to_fetch_.begin() + static_cast<std::ptrdiff_t>(end))};
        send(f, [this](std::optional<Bytes> b) { on_fetch(std::move(b)); });
    }

    void on_fetch(std::optional<Bytes> body) {
        if (!body) return skip_peer();
        auto msgs = std::make_shared<std::vector<StoredMessage>>();
        try {
            *msgs = decode_messages(*body);
        } catch (const wire::DecodeError&) {
            return skip_peer();
        }
        // A reply is size-capped: advance by what came back (at least one to make progress).
        fetch_pos_ += std::max<std::size_t>(1, msgs->size());
        fetched_ += msgs->size();
        auto core = rt_.core_;
        rt_.ctx_.run_blocking(
            [core, msgs] {
                for (const auto& m : *msgs) {
                    if (!core->service.owns(m.mailbox)) continue;
                    core->store.merge(MessageState{m.hash, m.mailbox, m.ns, m.expiry_ms, false}, &m.data, now_ms());
                }
            },
            [this](std::exception_ptr) { next_fetch(); });
    }

    NodeRuntime& rt_;
    std::vector<proto::NodeEntry> peers_;
    SwarmId swarm_;
    std::size_t index_ = 0;
    std::vector<MessageState> local_;
    std::vector<std::uint8_t> buckets_;
    std::size_t bucket_i_ = 0;
    std::vector<Hash> to_fetch_;
    std::size_t fetch_pos_ = 0;
    std::size_t fetched_ = 0;
    std::size_t merged_ = 0;
    bool finished_ = false;
};

NodeRuntime::NodeRuntime(sdk::Context& ctx, RuntimeSettings settings) : ctx_(ctx), settings_(std::move(settings)) {}

NodeRuntime::~NodeRuntime() = default;

namespace {

// Longest a transport-carried request may take: above the longest subscribe long-poll.
constexpr std::uint32_t kInboundTimeoutMs = 75'000;

// True for a transport service request addressed to the onion relay.
bool is_onion_frame(const Bytes& body) {
    try {
        wire::Reader r(body);
        return r.str(sdk::transport::kMaxServiceName) == onion::kOnionService;
    } catch (const wire::DecodeError&) {
        return false;
    }
}

}  // namespace

void NodeRuntime::start() {
    StoreOptions so;
    so.path = settings_.db_file.string();
    so.synchronous_full = settings_.synchronous_full;
    if (!settings_.db_key_file.empty()) so.key_hex = crypto::load_or_create_hex_secret(settings_.db_key_file);
    core_ = std::make_shared<NodeCore>(crypto::load_or_create_signing_key(settings_.key_file), so, settings_.limits,
                                       proto::ManifestVerifier(settings_.authority_keys, settings_.authority_threshold));
    sodium_memzero(so.key_hex.data(), so.key_hex.size());

    auto at = sdk::net::parse_endpoint(settings_.listen);
    if (!at) throw std::runtime_error("service-node.listen: " + at.error().message);
    sdk::net::ServerOptions opts;
    opts.max_frame_bytes = kMaxNodeFrameBytes;
    server_ = std::make_unique<sdk::net::Server>(ctx_.loop(), opts,
                                                 [this](Bytes body, sdk::net::Reply reply) {
                                                     // A transport service request (first byte 0, the top
                                                     // byte of its name length): onion blobs, or storage
                                                     // RPCs sent through the direct transport.
                                                     // Onion blobs are exempt from the client rate limit: a
                                                     // relay link carries many clients, and the relay bounds
                                                     // its own work (max_in_flight).
                                                     if (!body.empty() && body[0] == 0) {
                                                         if (!is_onion_frame(body) && !allow(reply.connection_id(), body)) {
                                                             reply.fail("rate limited");
                                                             return;
                                                         }
                                                         sdk::transport::answer_inbound(ctx_.bus(), body, reply, kInboundTimeoutMs,
                                                                                        kMaxNodeFrameBytes);
                                                         return;
                                                     }
                                                     if (!allow(reply.connection_id(), body)) {
                                                         reply.reply(encode_response(Method::info, error_response(peek_request_id(body), Status::rate_limited,
                                                                                                                  to_string(Status::rate_limited))));
                                                         return;
                                                     }
                                                     on_request(body, [reply](Bytes out) { reply.reply(std::move(out)); });
                                                 });
    auto bound = server_->listen(at.value());
    if (!bound) throw std::runtime_error("service-node: cannot listen: " + bound.error().message);
    bound_port_ = bound.value().port;
    if (settings_.public_host.empty()) settings_.public_host = bound.value().host;

    auto dir = sdk::net::parse_endpoint(settings_.directory);
    if (!dir) throw std::runtime_error("service-node.directory: " + dir.error().message);
    directory_ = std::make_unique<sdk::net::Client>(ctx_.loop(), dir.value());

    // The onion relay, with the node's X25519 key; it forwards only to nodes of the manifest.
    {
        auto seed = core_->key.seed();
        auto signing = crypto::SigningKeyPair::from_seed(wire::ByteView(seed.data(), seed.size()));
        sodium_memzero(seed.data(), seed.size());
        relay_ = std::make_unique<onion::Relay>(
            ctx_.loop(), ctx_.bus(), signing.to_dh(),
            [this](const onion::Key32& id, const std::string& address) {
                auto it = listed_.find(id);
                return it != listed_.end() && it->second == address;
            },
            onion::RelayOptions{});
        if (settings_.onion_trace) {
            // What this hop learnt: the next hop's address or the local service. Never a client.
            relay_->set_observer([path = ctx_.data_dir() / "onion-trace.log"](const onion::HopRecord& r) {
                std::ofstream out(path, std::ios::app);
                if (r.kind == onion::LayerKind::forward) out << "forward " << r.next_address << "\n";
                else out << "deliver " << r.service << "\n";
            });
        }
    }
    ctx_.serve<sdk::transport::Inbound>(
        [this](const sdk::transport::Inbound& in, sdk::Responder<sdk::transport::Response> r) {
            relay_->handle(in.body, [r](sdk::Result<Bytes> out) {
                if (out) {
                    r.reply({sdk::transport::Status::ok, std::move(out).value()});
                } else {
                    r.fail(out.error());
                }
            });
        },
        onion::kOnionService);
    // Requests carried by a transport (onion routing, direct) reach the same handlers.
    ctx_.serve<sdk::transport::Inbound>(
        [this](const sdk::transport::Inbound& in, sdk::Responder<sdk::transport::Response> r) {
            on_request(in.body, [r](Bytes out) { r.reply(sdk::transport::Response{sdk::transport::Status::ok, std::move(out)}); });
        },
        "storage");
    ctx_.log().info("service node listening on {}", bound.value().to_string());
    heartbeat();
    poll_manifest();
    ctx_.set_interval(settings_.heartbeat_ms, [this] { heartbeat(); });
    ctx_.set_interval(settings_.manifest_poll_ms, [this] { poll_manifest(); });
    ctx_.set_interval(settings_.catch_up_ms, [this] { start_catch_up(); });
    ctx_.set_interval(settings_.sweep_ms, [this] {
        // Connections idle this long were closed by the listener: forget their limiters.
        std::erase_if(limiters_, [now = now_ms()](const auto& kv) { return kv.second.last_ms() + 120'000 < now; });
        auto core = core_;
        auto removed = std::make_shared<std::size_t>(0);
        ctx_.run_blocking([core, removed] { *removed = core->store.sweep(now_ms()); },
                          [this, removed](std::exception_ptr e) {
                              if (e) ctx_.log().error("sweeper failed");
                              else if (*removed) ctx_.log().debug("sweeper removed {} expired rows", *removed);
                          });
    });
}

void NodeRuntime::stop() {
    if (server_) server_->close();
    relay_.reset();
    directory_.reset();
    peers_.clear();  // drops pending peer callbacks (catch-up stalls, harmlessly)
    parked_.clear();
    parked_by_mailbox_.clear();
}

// Per-connection token bucket for client requests. Peer requests are exempt: they are checked
// for a swarm member's signature, and replication of a busy swarm would exceed a client's rate.
bool NodeRuntime::allow(std::uint64_t connection, const Bytes& body) {
    if (body.size() >= 2 && body[1] == static_cast<std::uint8_t>(Method::peer)) return true;
    auto now = now_ms();
    auto it = limiters_.try_emplace(connection, settings_.limits.requests_per_second, settings_.limits.request_burst).first;
    return it->second.allow(now);
}

void NodeRuntime::on_request(const Bytes& body, Answer reply) {
    auto req = std::make_shared<Request>();
    try {
        *req = decode_request(body);
    } catch (const wire::DecodeError& e) {
        reply(encode_response(Method::info, error_response(peek_request_id(body), Status::bad_request, e.what())));
        return;
    }
    Method method = method_of(req->body);
    // Requests that touch no disk are answered on the loop thread.
    if (method == Method::info || method == Method::get_manifest || method == Method::get_swarm) {
        reply(encode_response(method, core_->service.handle(*req, now_ms()).response));
        return;
    }
    auto core = core_;
    auto out = std::make_shared<Outcome>();
    ctx_.run_blocking([core, req, out] { *out = core->service.handle(*req, now_ms()); },
                      [this, method, out, req, reply](std::exception_ptr e) {
                          if (e) {
                              reply(encode_response(method, error_response(req->id, Status::internal, "internal error")));
                              return;
                          }
                          finish(method, out, req, reply);
                      });
}

void NodeRuntime::finish(Method method, std::shared_ptr<Outcome> out, std::shared_ptr<Request> req, Answer reply) {
    if (out->park) {
        park(req->id, std::get<SubscribeRequest>(req->body), std::move(reply));
    } else {
        reply(encode_response(method, out->response));
    }
    if (!out->replicate.empty()) replicate(std::move(out->replicate));
    if (out->notify) wake(*out->notify);
}

void NodeRuntime::park(std::uint32_t id, SubscribeRequest q, Answer reply) {
    std::uint64_t token = next_token_++;
    auto wait = std::min<std::uint64_t>(q.wait_ms, settings_.limits.max_subscribe_wait_ms);
    PublicKey mailbox = q.mailbox;
    Parked p{id, std::move(q), std::move(reply), 0};
    p.timer = ctx_.set_timeout(wait, [this, token] { resume(token, true); });
    parked_.emplace(token, std::move(p));
    parked_by_mailbox_.emplace(mailbox, token);
}

void NodeRuntime::wake(const PublicKey& mailbox) {
    auto [b, e] = parked_by_mailbox_.equal_range(mailbox);
    std::vector<std::uint64_t> tokens;
    for (auto it = b; it != e; ++it) tokens.push_back(it->second);
    for (auto t : tokens) resume(t, false);
}

void NodeRuntime::resume(std::uint64_t token, bool final_attempt) {
    auto it = parked_.find(token);
    if (it == parked_.end()) return;
    auto core = core_;
    auto q = std::make_shared<SubscribeRequest>(it->second.request);
    auto out = std::make_shared<Outcome>();
    std::uint32_t id = it->second.id;
    ctx_.run_blocking([core, q, out, id] { *out = core->service.resume_subscribe(id, *q, now_ms()); },
                      [this, token, out, final_attempt](std::exception_ptr e) {
                          auto p = parked_.find(token);
                          if (p == parked_.end()) return;
                          if (!e && out->park && !final_attempt) return;  // still nothing: keep waiting
                          if (!final_attempt) ctx_.cancel_timer(p->second.timer);
                          auto resp = e ? error_response(p->second.id, Status::internal, "internal error") : out->response;
                          p->second.answer(encode_response(Method::subscribe, resp));
                          auto [b, end] = parked_by_mailbox_.equal_range(p->second.request.mailbox);
                          for (auto i = b; i != end; ++i)
                              if (i->second == token) {
                                  parked_by_mailbox_.erase(i);
                                  break;
                              }
                          parked_.erase(p);
                      });
}

sdk::net::Client& NodeRuntime::client_for(const proto::NodeEntry& peer) {
    auto key = endpoint_of(peer);
    auto it = peers_.find(key);
    if (it == peers_.end()) {
        sdk::net::ClientOptions opts;
        opts.max_frame_bytes = kMaxNodeFrameBytes;
        opts.connect_timeout_ms = 2000;
        it = peers_.emplace(key, std::make_unique<sdk::net::Client>(ctx_.loop(), sdk::net::Endpoint{peer.host, peer.port}, opts)).first;
    }
    return *it->second;
}

void NodeRuntime::replicate(std::vector<ReplicaOp> ops) {
    auto peers = core_->service.swarm_peers();
    if (peers.empty()) return;
    auto env = seal_peer(ReplicateBody{std::move(ops)}, core_->key, now_ms());
    for (const auto& p : peers) {
        Request req{next_peer_id_++, PeerRequest{env}};
        // A peer that misses this catches up later (on its start and every catch_up_ms).
        client_for(p).request(encode_request(req), kPeerTimeoutMs, [this](sdk::Result<Bytes> r) {
            if (!r) ctx_.log().debug("replication to a swarm peer failed: {}", r.error().describe());
        });
    }
}

void NodeRuntime::heartbeat() {
    proto::NodeDescriptor d{core_->key.pub, crypto::ed25519_to_x25519(core_->key.pub), settings_.public_host,
                                bound_port_, now_ms()};
    proto::DirectoryRequest q{proto::DirectoryKind::register_node, proto::sign_descriptor(d, core_->key)};
    directory_->request(proto::encode_directory_request(q), 5000, [this](sdk::Result<Bytes> r) {
        if (!r) {
            if (!warned_directory_) ctx_.log().warn("directory unreachable: {}", r.error().describe());
            warned_directory_ = true;
            return;
        }
        warned_directory_ = false;
        try {
            auto resp = proto::decode_directory_response(proto::DirectoryKind::register_node, r.value());
            if (resp.status != proto::DirectoryStatus::ok)
                ctx_.log().warn("directory refused the registration: {}", resp.message);
        } catch (const wire::DecodeError& e) {
            ctx_.log().warn("directory sent a malformed reply: {}", e.what());
        }
    });
}

void NodeRuntime::poll_manifest() {
    proto::DirectoryRequest q{proto::DirectoryKind::get_manifest, {}};
    directory_->request(proto::encode_directory_request(q), 5000, [this](sdk::Result<Bytes> r) {
        if (!r) return;
        try {
            auto resp = proto::decode_directory_response(proto::DirectoryKind::get_manifest, r.value());
            if (resp.status != proto::DirectoryStatus::ok) return;
            auto before = core_->service.manifest_version();
            auto check = core_->service.update_manifest(resp.manifest);
            if (check != proto::ManifestCheck::ok) {
                ctx_.log().warn("manifest refused: {}", proto::to_string(check));
                return;
            }
            auto after = core_->service.manifest_version();
            if (after == before) return;
            refresh_listed();
            SwarmId swarm = core_->service.own_swarm();
            ctx_.log().info("manifest version {}; this node is {}", after,
                            swarm == proto::kInvalidSwarm ? std::string("not assigned yet")
                                                              : "in swarm " + std::to_string(swarm));
            if (swarm != last_swarm_ && swarm != proto::kInvalidSwarm) {
                last_swarm_ = swarm;
                start_catch_up();  // joined or changed swarm (or just started): reconcile
            }
        } catch (const wire::DecodeError& e) {
            ctx_.log().warn("malformed manifest: {}", e.what());
        }
    });
}

void NodeRuntime::start_catch_up() {
    if (catch_up_ && !catch_up_->finished()) return;
    SwarmId swarm = core_->service.own_swarm();
    auto peers = core_->service.swarm_peers();
    if (swarm == proto::kInvalidSwarm || peers.empty()) return;
    catch_up_ = std::make_unique<CatchUp>(*this, std::move(peers), swarm);
    catch_up_->run();
}

void NodeRuntime::refresh_listed() {
    listed_.clear();
    auto m = proto::decode_signed_manifest(core_->service.manifest_envelope());
    for (const auto& n : m.manifest.nodes) listed_[n.ed25519] = n.host + ":" + std::to_string(n.port);
}

}  // namespace veil::node
