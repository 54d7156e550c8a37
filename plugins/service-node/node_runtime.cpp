#include "node_runtime.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "veil/crypto/keys.hpp"
#include "catch_up.hpp"
#include "veil/proto/admission.hpp"
#include "veil/proto/blob_rpc.hpp"
#include "veil/proto/directory_rpc.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/inbound.hpp"
#include "veil/sdk/metrics.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/node.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::node {

namespace tr = sdk::transport;

namespace {

constexpr std::uint64_t kPeerTimeoutMs = 10'000;
constexpr std::size_t kMaxNodeFrameBytes = kMaxPeerBodyBytes + 4096;

// Whether a co-located plugin may have `message` signed by the node key: it must start with an
// allowed domain tag (sdk::node::Sign), so the node's signature never covers its own protocol.
bool signable(ByteView message, const std::vector<std::string>& domains) {
    auto starts_with = [&](std::string_view tag) {
        return message.size() > tag.size() && std::equal(tag.begin(), tag.end(), message.begin());
    };
    return starts_with(proto::blob::kListDomain) || std::any_of(domains.begin(), domains.end(), starts_with);
}

using sdk::now_ms;

// The node port's server: deadlines, fair slots, partial-frame budget, per-service frame caps.
sdk::net::ServerOptions server_options(const DoorLimits& doors) {
    sdk::net::ServerOptions o;
    o.idle_timeout_ms = doors.idle_timeout_ms;
    o.frame_deadline_ms = doors.frame_deadline_ms;
    o.max_connections = doors.max_connections;
    o.max_connections_per_source = doors.connections_per_source;
    o.max_connections_per_group = doors.connections_per_group;
    o.max_held_per_group = doors.held_long_polls_per_group;
    o.max_held = doors.held_long_polls;
    o.loopback_per_connection = doors.loopback_per_connection;
    o.partial_frame_budget = doors.partial_frame_budget;
    o.max_frame_bytes = tr::kMaxServiceName + 8 +
                        std::max({doors.storage_frame, doors.peer_frame, doors.onion_frame, doors.attachments_frame,
                                  doors.other_frame});
    // Sized by the service named at the start of the payload, before the body is buffered.
    o.frame_limit = [doors](wire::ByteView head) -> std::optional<std::size_t> {
        auto peek = tr::peek_service(head);
        if (peek.state == tr::ServicePeek::State::need_more) return std::nullopt;
        if (peek.state == tr::ServicePeek::State::bad) return 0;
        return peek.header_bytes + max_body_for(doors, peek.service);
    };
    return o;
}

}  // namespace

NodeRuntime::NodeRuntime(sdk::Context& ctx, RuntimeSettings settings) : ctx_(ctx), settings_(std::move(settings)) {}

NodeRuntime::~NodeRuntime() = default;

namespace {

// Longest a transport-carried request may take: above the longest subscribe long-poll.
constexpr std::uint32_t kInboundTimeoutMs = 75'000;

}  // namespace

void NodeRuntime::start() {
    StoreOptions so;
    so.path = settings_.db_file.string();
    so.synchronous_full = settings_.synchronous_full;
    if (!settings_.db_key_file.empty()) so.key_hex = crypto::load_or_create_hex_secret(settings_.db_key_file);
    core_ = std::make_shared<NodeCore>(crypto::load_or_create_signing_key(settings_.key_file), so, settings_.limits,
                                       proto::ManifestVerifier(settings_.authority_keys, settings_.authority_threshold));
    sodium_memzero(so.key_hex.data(), so.key_hex.size());
    if (!core_->store.compaction_off().empty())
        ctx_.log().warn("the store file keeps its size after expiries ({}); it is rebuilt on a later start", core_->store.compaction_off());

    onion_key_ = crypto::make_key_agreement(core_->key.to_dh());
    serve_node_contracts();

    auto at = sdk::net::parse_endpoint(settings_.listen);
    if (!at) throw std::runtime_error("service-node.listen: " + at.error().message);
    auto opts = server_options(settings_.limits.doors);
    server_ = std::make_unique<sdk::net::Server>(ctx_.loop(), opts,
                                                 [this](Bytes frame, sdk::net::Reply reply) { on_frame(frame, std::move(reply)); });
    auto bound = server_->listen(at.value());
    if (!bound) throw std::runtime_error("service-node: cannot listen: " + bound.error().message);
    bound_port_ = bound.value().port;
    if (settings_.public_host.empty()) settings_.public_host = bound.value().host;

    for (const auto& address : settings_.directories) {
        auto dir = sdk::net::parse_endpoint(address);
        if (!dir) throw std::runtime_error("service-node.directories: " + dir.error().message);
        directories_.push_back(std::make_unique<sdk::net::Client>(ctx_.loop(), dir.value()));
    }
    warned_directory_.assign(directories_.size(), false);

    // Storage RPCs, from the node's port or carried by a transport (onion exit, direct). Rate
    // limited per link: the connection they came by, directly or inside an onion blob (the
    // relay at the exit knows no client address, only the link: a guard's or a client's).
    ctx_.serve<tr::Inbound>(
        [this](const tr::Inbound& in, sdk::Responder<tr::Response> r) {
            auto answer = counted(in.body, std::move(r));
            if (in.link != 0 && !allow(in.link)) {
                auto refused = error_response(peek_request_id(in.body), Status::rate_limited, to_string(Status::rate_limited));
                return answer(encode_response(Method::info, refused));
            }
            on_request(in.body, false, std::move(answer), in.link);
        },
        kStorageService);
    // Requests of the other members of the swarm (replication, catch-up). Until its signature
    // verified, a frame is charged to the link it came by (a member's budget only after: the
    // sender named in the header is unproven).
    ctx_.serve<tr::Inbound>(
        [this](const tr::Inbound& in, sdk::Responder<tr::Response> r) {
            // (A test's endless pager answers as fast as it is asked, as a real one would.)
            auto answer = counted(in.body, std::move(r));
            if (settings_.test_misbehave != "endless_pages" && !allow_peer_link(in.link, in.body.size())) {
                auto refused = error_response(peek_request_id(in.body), Status::rate_limited, to_string(Status::rate_limited));
                return answer(encode_response(Method::peer, refused));
            }
            on_request(in.body, true, std::move(answer));
        },
        kPeerService);
    ctx_.log().info("service node listening on {}", bound.value().to_string());
    serve_metrics();
    if (!settings_.test_misbehave.empty())
        ctx_.log().warn("test_misbehave = {}: this node answers client stores as a hostile member (tests only)",
                        settings_.test_misbehave);
    heartbeat();
    poll_manifest();
    ctx_.set_interval(settings_.heartbeat_ms, [this] { heartbeat(); });
    ctx_.set_interval(settings_.manifest_poll_ms, [this] { poll_manifest(); });
    ctx_.set_interval(settings_.catch_up_ms, [this] { start_catch_up(); });
    ctx_.set_interval(settings_.sweep_ms, [this] {
        // Connections idle this long were closed by the listener: forget their limiters.
        auto idle = [now = now_ms()](const auto& kv) { return kv.second.last_ms() + 120'000 < now; };
        std::erase_if(limiters_, idle);
        std::erase_if(peer_links_, idle);
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
    if (metrics_) metrics_->close();
    directories_.clear();
    peers_.clear();  // drops pending peer callbacks (catch-up stalls, harmlessly)
    parked_.clear();
    parked_by_key_.clear();
}

// One frame on the node's port: a service request `str(service) | var(body)`, answered through
// the bus (transport::Inbound routed by the service, carrying the connection as its link).
// Storage requests are rate limited per link, also when an onion relay delivers them (in the
// storage handler). Peer requests have their own budgets (per link, then per verified member;
// replication of a busy swarm would exceed a client's rate); onion blobs are exempt (the relay
// bounds its own work per link); any other service bounds its own.
void NodeRuntime::on_frame(const Bytes& frame, sdk::net::Reply reply) {
    auto in = tr::decode_service_request(frame, kMaxNodeFrameBytes);
    if (!in) return reply.fail(in.error().message);
    tr::answer_inbound(ctx_.bus(), std::move(in).value(), std::move(reply), kInboundTimeoutMs);
}

NodeRuntime::Answer NodeRuntime::counted(const Bytes& body, sdk::Responder<tr::Response> responder) {
    counters_->begin();
    return [responder, counters = counters_, method = method_byte(body)](Bytes out) {
        counters->end(method, status_byte(out));
        responder.reply(tr::Response{tr::Status::ok, std::move(out)});
    };
}

void NodeRuntime::serve_metrics() {
    if (settings_.metrics_listen.empty()) return;
    auto at = sdk::net::parse_endpoint(settings_.metrics_listen);
    if (!at) throw std::runtime_error("service-node.metrics_listen: " + at.error().message);
    metrics_ = std::make_unique<sdk::metrics::HttpEndpoint>(
        ctx_.loop(), sdk::metrics::HttpOptions{}, [this](std::function<void(std::string)> done) { collect_metrics(std::move(done)); });
    auto bound = metrics_->listen(at.value());
    if (!bound) throw std::runtime_error("service-node.metrics_listen: " + bound.error().message);
    ctx_.log().info("metrics on http://{}/metrics", bound.value().to_string());
}

namespace {

// The database's bytes on disk: the file, its write-ahead log and its shared-memory index.
std::uint64_t database_file_bytes(const std::filesystem::path& db) {
    std::uint64_t total = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        auto n = std::filesystem::file_size(db.string() + suffix, ec);
        if (!ec) total += n;
    }
    return total;
}

// The plugins beside the node whose own families a scrape includes (Collect on their route).
constexpr std::string_view kMetricsRoutes[] = {"onion-relay"};

}  // namespace

void NodeRuntime::collect_metrics(std::function<void(std::string)> done) {
    auto levels = std::make_shared<NodeLevels>();
    levels->parked_subscribes = parked_.size();
    levels->connections = server_->connections();
    levels->doors = server_->stats();
    levels->max_stored_bytes = settings_.limits.max_stored_bytes;
    levels->manifest_version = core_->service.manifest_version();
    levels->swarm_peers = core_->service.swarm_peers().size();
    auto core = core_;
    ctx_.run_blocking(
        [core, levels, db = settings_.db_file] {
            levels->stored_bytes = core->store.stored_bytes();
            levels->rows = core->store.row_count();
            levels->database_file_bytes = database_file_bytes(db);
        },
        [this, levels, done = std::move(done)](std::exception_ptr) {
            auto families = std::make_shared<std::vector<sdk::metrics::Family>>(node_families(*counters_, *levels, now_ms()));
            auto left = std::make_shared<std::size_t>(std::size(kMetricsRoutes));
            for (auto route : kMetricsRoutes) {
                auto added = [families, left, done](sdk::Result<sdk::metrics::Families> r) {
                    if (r) families->insert(families->end(), r.value().families.begin(), r.value().families.end());
                    if (--*left == 0) done(sdk::metrics::render(*families));
                };
                // A plugin that is not loaded answers no_handler at once.
                if (!ctx_.bus().request<sdk::metrics::Collect>({}, 1000, added, route)) added(sdk::Error{sdk::ErrorCode::queue_full, ""});
            }
        });
}

// What co-located plugins (the onion relay, the attachment store) may ask of this node.
void NodeRuntime::serve_node_contracts() {
    namespace sn = sdk::node;
    ctx_.serve<sn::GetNodeIdentity>([this](const sn::GetNodeIdentity&, sdk::Responder<sn::NodeIdentity> r) {
        r.reply({core_->key.pub, onion_key_->public_key()});
    });
    ctx_.serve<sn::Sign>([this](const sn::Sign& q, sdk::Responder<sn::Signed> r) {
        if (!signable(q.message, settings_.sign_domains))
            return r.fail(sdk::ErrorCode::refused, "the node signs only messages starting with an allowed domain tag "
                                                   "(see [service-node] sign_domains)");
        r.reply({core_->key.sign(q.message)});
    });
    ctx_.serve<sn::GetKeyAgreement>([this](const sn::GetKeyAgreement&, sdk::Responder<sn::KeyAgreementReply> r) {
        r.reply({onion_key_});
    });
    ctx_.serve<sdk::network::GetManifest>(
        [this](const sdk::network::GetManifest&, sdk::Responder<sdk::network::ManifestReply> r) {
            auto m = core_->service.manifest();
            if (!m) return r.fail(sdk::ErrorCode::not_found, "no manifest accepted yet");
            r.reply({m->version, m, core_->service.manifest_envelope()});
        });
}

// Per-connection token bucket for client storage requests.
bool NodeRuntime::allow(std::uint64_t connection) {
    auto now = now_ms();
    auto it = limiters_.try_emplace(connection, settings_.limits.requests_per_second, settings_.limits.request_burst).first;
    return it->second.allow(now);
}

// Per-link peer budget for frames not yet verified (link 0, unknown, shares one).
bool NodeRuntime::allow_peer_link(std::uint64_t link, std::size_t bytes) {
    auto it = peer_links_.try_emplace(link, settings_.limits).first;
    return it->second.allow(now_ms(), bytes);
}

void NodeRuntime::on_request(const Bytes& body, bool from_peer, Answer reply, std::uint64_t link) {
    auto req = std::make_shared<Request>();
    try {
        *req = decode_request(body);
    } catch (const wire::DecodeError& e) {
        reply(encode_response(Method::info, error_response(peek_request_id(body), Status::bad_request, e.what())));
        return;
    }
    Method method = method_of(req->body);
    // Each service takes its own requests only: peer requests skip the client rate limit.
    if ((method == Method::peer) != from_peer) {
        const char* why = from_peer ? "the peer service takes peer requests only" : "peer requests go to the peer service";
        reply(encode_response(method, error_response(req->id, Status::bad_request, why)));
        return;
    }
    if (auto hostile = misbehave(*req)) {
        reply(encode_response(method, *hostile));
        return;
    }
    // An authority checking that this node holds its key at the address it registered.
    if (const auto* c = std::get_if<ChallengeRequest>(&req->body)) {
        auto message = proto::challenge_message(c->authority, c->nonce, settings_.public_host, bound_port_);
        reply(encode_response(method, Response{req->id, Status::ok, ChallengeResponse{core_->key.sign(message)}}));
        return;
    }
    // Requests that touch no disk are answered on the loop thread.
    if (method == Method::info || method == Method::get_manifest || method == Method::get_swarm) {
        reply(encode_response(method, core_->service.handle(*req, now_ms()).response));
        return;
    }
    auto core = core_;
    auto out = std::make_shared<Outcome>();
    ctx_.run_blocking([core, req, out] { *out = core->service.handle(*req, now_ms()); },
                      [this, method, out, req, reply, link](std::exception_ptr e) {
                          if (e) {
                              reply(encode_response(method, error_response(req->id, Status::internal, "internal error")));
                              return;
                          }
                          finish(method, out, req, reply, link);
                      });
}

std::optional<Response> NodeRuntime::misbehave(const Request& req) {
    const auto* peer = std::get_if<PeerRequest>(&req.body);
    if (peer && settings_.test_misbehave == "endless_pages") {
        PeerEnvelope env;
        try {
            env = open_peer(peer->envelope);
        } catch (const wire::DecodeError&) {
            return std::nullopt;
        }
        Bytes out;
        if (std::holds_alternative<SummaryBody>(env.body)) {
            Summary s{};
            for (auto& b : s) b = BucketDigest{0xFFFFFFFF, {7}};
            out = encode_summary(s);
        } else if (const auto* b = std::get_if<BucketBody>(&env.body)) {
            BucketPage page{{}, true};
            for (int i = 0; i < 50; ++i) {
                Hash h{};
                h[0] = b->bucket;
                auto n = ++endless_next_;
                for (int k = 0; k < 8; ++k) h[8 - k] = static_cast<std::uint8_t>(n >> (8 * k));
                page.states.push_back(ReplicaOp{MessageState{h, core_->key.pub, 0, now_ms() + 600'000, false}, std::nullopt, nullptr});
            }
            out = encode_bucket_page(page);
        } else if (std::holds_alternative<FetchBody>(env.body)) {
            out = encode_messages({});
        } else {
            return std::nullopt;
        }
        return Response{req.id, Status::ok, PeerResponse{std::move(out)}};
    }
    if (settings_.test_misbehave == "stale_device_lists") return serve_stale_device_lists(req);
    const auto* q = std::get_if<StoreRequest>(&req.body);
    if (!q || settings_.test_misbehave.empty()) return std::nullopt;
    if (settings_.test_misbehave == "overprice" && !q->auth)
        return Response{req.id, Status::pow_required, WorkRequiredResponse{1ULL << 60, "pay 2^60 hashes"}};
    if (settings_.test_misbehave == "drop")
        return Response{req.id, Status::ok,
                        StoreResponse{message_hash(q->mailbox, q->ns, q->data), true, now_ms() + q->ttl_ms}};
    return std::nullopt;
}

// A member that keeps every device list a client stored (a revocation's prune does not reach
// this copy) and answers reads with all of them but the newest, so it serves the list from
// before the last change.
std::optional<Response> NodeRuntime::serve_stale_device_lists(const Request& req) {
    if (const auto* s = std::get_if<StoreRequest>(&req.body); s && s->ns == kDeviceListNamespace) {
        auto& kept = stale_lists_[s->mailbox];
        if (std::find(kept.begin(), kept.end(), s->data) == kept.end()) kept.push_back(s->data);
        return std::nullopt;  // stored as usual too
    }
    const auto* r = std::get_if<RetrieveRequest>(&req.body);
    if (!r || r->ns != kDeviceListNamespace) return std::nullopt;
    auto it = stale_lists_.find(r->mailbox);
    if (it == stale_lists_.end() || it->second.size() < 2) return std::nullopt;
    PageResponse page;
    for (std::size_t i = 0; i + 1 < it->second.size(); ++i) {
        const auto& data = it->second[i];
        page.messages.push_back({message_hash(r->mailbox, r->ns, data), now_ms() + 600'000, data});
    }
    return Response{req.id, Status::ok, std::move(page)};
}

void NodeRuntime::finish(Method method, std::shared_ptr<Outcome> out, std::shared_ptr<Request> req, Answer reply,
                         std::uint64_t link) {
    if (out->park) {
        park(req->id, std::get<SubscribeRequest>(req->body), std::move(reply), link);
    } else {
        reply(encode_response(method, out->response));
    }
    if (!out->replicate.empty()) replicate(std::move(out->replicate));
    if (out->notify) wake(*out->notify);
}

void NodeRuntime::park(std::uint32_t id, SubscribeRequest q, Answer reply, std::uint64_t link) {
    std::uint64_t token = next_token_++;
    auto wait = std::min<std::uint64_t>(q.wait_ms, settings_.limits.max_subscribe_wait_ms);
    Wake key{q.mailbox, q.ns};
    // Anyone may hold an unsigned subscribe (a public namespace): its connection may still give
    // way to a newcomer when the node is full, so such waits cannot pin the node's slots. An
    // owner's signed one costs no more (keypairs are free), so it is held only within its
    // group's share of held connections; past it, it yields too.
    const bool held = !is_public_namespace(q.ns) && server_->hold(link);
    std::uint64_t yielding_link = held ? 0 : link;
    if (yielding_link) server_->set_yielding(yielding_link, true);
    Parked p{id, std::move(q), std::move(reply), 0, yielding_link, held ? link : 0};
    p.timer = ctx_.set_timeout(wait, [this, token] { resume(token, true); });
    parked_.emplace(token, std::move(p));
    // A full key answers its oldest subscribe now (it subscribes again): a store re-runs few.
    if (auto oldest = parked_by_key_.add(key, token)) {
        ctx_.cancel_timer(parked_.at(*oldest).timer);
        resume(*oldest, true);
    }
    core_->service.set_parked_subscribes(parked_.size());
}

void NodeRuntime::wake(const Wake& key) {
    for (auto t : parked_by_key_.waiting(key)) resume(t, false);
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
                          parked_by_key_.remove(Wake{p->second.request.mailbox, p->second.request.ns}, token);
                          if (p->second.yielding_link) server_->set_yielding(p->second.yielding_link, false);
                          if (p->second.held_link) server_->unhold(p->second.held_link);
                          parked_.erase(p);
                          core_->service.set_parked_subscribes(parked_.size());
                      });
}

sdk::net::Client& NodeRuntime::client_for(const proto::NodeEntry& peer) {
    auto key = address_of(peer);
    auto it = peers_.find(key);
    if (it == peers_.end()) {
        sdk::net::ClientOptions opts;
        opts.max_frame_bytes = kMaxNodeFrameBytes;
        opts.connect_timeout_ms = 2000;
        it = peers_.emplace(key, std::make_unique<sdk::net::Client>(ctx_.loop(), sdk::net::Endpoint{peer.host, peer.port}, opts)).first;
    }
    return *it->second;
}

// Sends one peer request (service "peer") and hands its response to `done` (nullopt when the
// peer could not be reached or answered something malformed).
void NodeRuntime::to_peer(const proto::NodeEntry& peer, Bytes envelope, std::function<void(std::optional<Response>)> done) {
    Request req{next_peer_id_++, PeerRequest{std::move(envelope)}};
    client_for(peer).request(
        tr::encode_service_request(kPeerService, encode_request(req)), kPeerTimeoutMs,
        [done = std::move(done)](sdk::Result<Bytes> r) {
            if (!r) return done(std::nullopt);
            auto answer = tr::decode_service_response(r.value(), kMaxNodeFrameBytes);
            if (!answer || answer.value().status != tr::Status::ok) return done(std::nullopt);
            try {
                done(decode_response(Method::peer, answer.value().body));
            } catch (const wire::DecodeError&) {
                done(std::nullopt);
            }
        });
}

void NodeRuntime::replicate(std::vector<ReplicaOp> ops) {
    auto peers = core_->service.swarm_peers();
    if (peers.empty()) return;
    ReplicateBody body{std::move(ops)};
    for (const auto& p : peers) {
        // Sealed for each recipient (a peer envelope names it). A peer that misses this catches
        // up later (on its start and every catch_up_ms).
        ++counters_->replication_sent;
        ++counters_->replication_pending;
        to_peer(p, seal_peer(body, core_->key, p.ed25519, now_ms()), [this](std::optional<Response> r) {
            --counters_->replication_pending;
            if (r && r->status == Status::ok) return;
            ++counters_->replication_failed;
            ctx_.log().debug("replication to a swarm peer failed");
        });
    }
}

void NodeRuntime::heartbeat() {
    proto::NodeDescriptor d{core_->key.pub, crypto::ed25519_to_x25519(core_->key.pub), settings_.public_host,
                                bound_port_, now_ms()};
    proto::DirectoryRequest q{proto::DirectoryKind::register_node, proto::sign_descriptor(d, core_->key), {}};
    auto request = proto::encode_directory_request(q);
    // Every authority votes on what it sees itself: the node registers with each.
    for (std::size_t i = 0; i < directories_.size(); ++i) {
        directories_[i]->request(request, 5000, [this, i](sdk::Result<Bytes> r) {
            auto at = settings_.directories[i];
            if (!r) {
                if (!warned_directory_[i]) ctx_.log().warn("directory {} unreachable: {}", at, r.error().describe());
                warned_directory_[i] = true;
                return;
            }
            warned_directory_[i] = false;
            try {
                auto resp = proto::decode_directory_response(proto::DirectoryKind::register_node, r.value());
                if (resp.status == proto::DirectoryStatus::checking)
                    ctx_.log().debug("directory {} is checking this node's address and key", at);
                else if (resp.status != proto::DirectoryStatus::ok)
                    ctx_.log().warn("directory {} refused the registration: {}", at, resp.message);
            } catch (const wire::DecodeError& e) {
                ctx_.log().warn("directory {} sent a malformed reply: {}", at, e.what());
            }
        });
    }
}

void NodeRuntime::poll_manifest() {
    warn_if_old();
    proto::DirectoryRequest q{proto::DirectoryKind::get_manifest, {}, {}};
    // One authority a poll, in turn: one that is down or lies delays nothing for long.
    auto& directory = *directories_[next_directory_++ % directories_.size()];
    directory.request(proto::encode_directory_request(q), 5000, [this](sdk::Result<Bytes> r) {
        if (!r) return;
        try {
            auto resp = proto::decode_directory_response(proto::DirectoryKind::get_manifest, r.value());
            if (resp.status != proto::DirectoryStatus::ok) return;
            auto before = core_->service.manifest_version();
            auto check = core_->service.update_manifest(resp.manifest, now_ms());
            if (check != proto::ManifestCheck::ok) {
                ctx_.log().warn("manifest refused: {}", proto::to_string(check));
                return;
            }
            auto after = core_->service.manifest_version();
            if (after == before) return;
            // For co-located plugins (the onion relay, the attachment store): one event, as a
            // client's network plugin publishes it.
            ctx_.bus().publish(sdk::network::ManifestUpdated{after, core_->service.manifest(), resp.manifest});
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

void NodeRuntime::warn_if_old() {
    auto m = core_->service.manifest();
    if (!m) return;
    auto now = now_ms();
    if (now > m->valid_until_ms) {
        if (m->version == warned_expired_version_) return;
        warned_expired_version_ = m->version;
        ctx_.log().warn("manifest version {} expired {} s ago and no newer one is signed by enough authorities",
                        m->version, (now - m->valid_until_ms) / 1000);
    } else if (proto::manifest_getting_old(*m, now) && m->version != warned_old_version_) {
        warned_old_version_ = m->version;
        ctx_.log().warn("manifest version {} is getting old: it expires in {} s", m->version, (m->valid_until_ms - now) / 1000);
    }
}

void NodeRuntime::start_catch_up() {
    if (catch_up_ && !catch_up_->finished()) return;
    SwarmId swarm = core_->service.own_swarm();
    auto peers = core_->service.swarm_peers();
    if (swarm == proto::kInvalidSwarm || peers.empty()) return;
    CatchUpPort port;
    port.ask = [this](const proto::NodeEntry& peer, const PeerBody& body, std::function<void(std::optional<Response>)> done) {
        to_peer(peer, seal_peer(body, core_->key, peer.ed25519, now_ms()), std::move(done));
    };
    port.off_loop = [this](std::function<void()> work, std::function<void(bool)> then) {
        ctx_.run_blocking(std::move(work), [then = std::move(then)](std::exception_ptr e) { then(!e); });
    };
    port.now_ms = now_ms;
    port.finished = [this](const CatchUpCounts& c) {
        ++counters_->catch_up_rounds;
        counters_->catch_up_fetched += c.fetched;
        // Reconciled with every member: nothing a missed push left out is older than this.
        if (!c.peers_dropped) counters_->caught_up_ms = now_ms();
        if (c.fetched || c.merged || c.buckets_skipped || c.peers_dropped)
            ctx_.log().info("catch-up done: {} messages fetched, {} states merged, {} buckets skipped, {} peers "
                            "dropped (turn spent)",
                            c.fetched, c.merged, c.buckets_skipped, c.peers_dropped);
    };
    // The service is shared with the worker-pool jobs of the round (it lives in core_).
    catch_up_ = std::make_unique<CatchUpRound>(std::shared_ptr<StorageService>(core_, &core_->service), std::move(peers),
                                               swarm, std::move(port), settings_.catch_up_bounds);
    catch_up_->run();
}

}  // namespace veil::node
