#include "store_runtime.hpp"

#include <chrono>

#include "veil/sdk/clock.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/node.hpp"

namespace veil::attachment_store {

namespace tr = sdk::transport;

namespace {

// Whom an upload slot is charged to: the link's source (address or /64), as the onion relay
// counts; a link with no known source counts alone.
std::string upload_source(const tr::Inbound& in) {
    return in.source.empty() ? "link " + std::to_string(in.link) : in.source;
}

constexpr std::uint32_t kLocalTimeoutMs = 5'000;
constexpr std::uint32_t kPeerTimeoutMs = 15'000;

using sdk::now_ms;

tr::Response answer_of(const Response& r) { return tr::Response{tr::Status::ok, encode_response(r)}; }

sdk::net::ClientOptions peer_options() {
    sdk::net::ClientOptions o;
    o.max_frame_bytes = kChunkBytes + 4096;
    o.connect_timeout_ms = 2'000;
    return o;
}

}  // namespace

/// One catch-up round: each swarm peer in turn is listed, and the blobs it has that this node
/// lacks are fetched from it chunk by chunk and stored as replicas.
struct CatchUp {
    std::vector<std::string> peers;  // host:port
    std::size_t peer = 0;
    std::optional<BlobId> cursor;
    std::vector<BlobEntry> wanted;
    std::size_t blob = 0;
    std::uint32_t chunk = 0;
    std::size_t fetched = 0;
};

/// One blob being pushed to one swarm peer, chunk after chunk.
struct Push {
    PutRequest head;  // id, digest, total, expiry; index and bytes filled per chunk
    std::string address;
    std::uint32_t next = 0;
};

StoreRuntime::StoreRuntime(sdk::Context& ctx, RuntimeSettings settings)
    : ctx_(ctx), settings_(settings), peers_(ctx.loop(), peer_options(), 64) {}

StoreRuntime::~StoreRuntime() { *alive_ = false; }

void StoreRuntime::start() {
    store_ = std::make_shared<BlobStore>(ctx_.data_dir(), settings_.limits);
    ctx_.log().info("attachment store: {} blobs held, at most {} bytes each, kept {} ms", store_->count(),
                    settings_.limits.max_blob_bytes, settings_.limits.expiry_ms);
    ctx_.serve<tr::Inbound>([this](const tr::Inbound& in, Answer a) { handle(in, std::move(a)); }, kServiceName);
    ctx_.on<sdk::network::ManifestUpdated>([this](const sdk::network::ManifestUpdated& m) { on_manifest(m.manifest); });
    (void)ctx_.bus().request<sdk::network::GetManifest>(
        {}, kLocalTimeoutMs, [this, alive = alive_](sdk::Result<sdk::network::ManifestReply> r) {
            if (*alive && r) on_manifest(r.value().manifest);  // not_found: none accepted yet
        });
    (void)ctx_.bus().request<sdk::node::GetNodeIdentity>(
        {}, kLocalTimeoutMs, [this, alive = alive_](sdk::Result<sdk::node::NodeIdentity> r) {
            if (!*alive) return;
            if (!r) return ctx_.log().error("no identity from the service node ({}): storing nothing", r.error().describe());
            own_key_ = r.value().ed25519;
            on_membership();
        });
    ctx_.set_interval(settings_.catch_up_ms, [this] { start_catch_up(); });
    ctx_.set_interval(settings_.sweep_ms, [this] {
        auto store = store_;
        auto removed = std::make_shared<std::size_t>(0);
        ctx_.run_blocking([store, removed] { *removed = store->sweep(now_ms()); },
                          [this, removed](std::exception_ptr e) {
                              if (e) ctx_.log().error("attachment sweep failed");
                              else if (*removed) ctx_.log().debug("attachment sweep removed {} blobs or uploads", *removed);
                          });
    });
}

void StoreRuntime::stop() {
    *alive_ = false;
    peers_.clear();
}

void StoreRuntime::on_manifest(std::shared_ptr<const proto::Manifest> manifest) {
    if (!manifest || (manifest_ && manifest->version <= manifest_->version)) return;
    manifest_ = std::move(manifest);
    on_membership();
}

void StoreRuntime::on_membership() {
    const auto* self = manifest_ && own_key_ ? manifest_->find(*own_key_) : nullptr;
    if (self && self->swarm != last_swarm_) {
        last_swarm_ = self->swarm;
        start_catch_up();  // joined a swarm (or just started): fetch what its members hold
    }
}

std::optional<Response> StoreRuntime::check_owner(const BlobId& id) const {
    if (!manifest_ || !own_key_) return error(Status::not_ready, "the node has no manifest yet");
    const auto* self = manifest_->find(*own_key_);
    if (!self || self->swarm != manifest_->swarm_for(id))
        return error(Status::wrong_swarm, "this attachment belongs to another swarm");
    return std::nullopt;
}

// A list is answered only to a member of this node's swarm, signed with its node key, recently.
void StoreRuntime::answer_list(const ListRequest& q, Answer answer) {
    if (!manifest_ || !own_key_) return answer.reply(answer_of(error(Status::not_ready, "the node has no manifest yet")));
    const auto* self = manifest_->find(*own_key_);
    const auto* peer = manifest_->find(q.requester);
    const auto now = now_ms();
    const auto skew = q.timestamp_ms > now ? q.timestamp_ms - now : now - q.timestamp_ms;
    if (!self || !peer || peer->swarm != self->swarm || skew > settings_.clock_window_ms ||
        !crypto::verify_signature(q.requester, list_signed_bytes(q), q.signature))
        return answer.reply(answer_of(error(Status::bad_request, "listing is for members of this swarm")));
    auto store = store_;
    auto out = std::make_shared<Response>();
    ctx_.run_blocking([store, q, out, now] { out->body = store->list(q.after, q.max_count, now); },
                      [answer, out](std::exception_ptr e) {
                          answer.reply(answer_of(e ? error(Status::internal, "internal error") : *out));
                      });
}

void StoreRuntime::handle(const tr::Inbound& in, Answer answer) {
    Request req;
    try {
        req = decode_request(in.body);
    } catch (const wire::DecodeError& e) {
        answer.reply(answer_of(error(Status::bad_request, e.what())));
        return;
    }
    auto store = store_;
    if (auto* get = std::get_if<GetRequest>(&req)) {
        auto out = std::make_shared<Response>();
        ctx_.run_blocking([store, q = *get, out] { *out = store->get(q, now_ms()); },
                          [answer, out](std::exception_ptr e) {
                              answer.reply(answer_of(e ? error(Status::internal, "internal error") : *out));
                          });
        return;
    }
    if (auto* list = std::get_if<ListRequest>(&req)) return answer_list(*list, std::move(answer));
    auto put = std::make_shared<PutRequest>(std::move(std::get<PutRequest>(req)));
    if (auto refused = check_owner(put->id)) {
        answer.reply(answer_of(*refused));
        return;
    }
    if (!admit_upload(in.link, put->bytes.size())) {
        answer.reply(answer_of(error(Status::not_ready, "this connection is over its upload rate: try later or another member")));
        return;
    }
    auto out = std::make_shared<PutOutcome>();
    ctx_.run_blocking([store, put, out, source = upload_source(in)] { *out = store->put(*put, now_ms(), source); },
                      [this, answer, put, out](std::exception_ptr e) {
                          if (e) {
                              answer.reply(answer_of(error(Status::internal, "internal error")));
                              return;
                          }
                          answer.reply(answer_of(out->response));
                          if (out->response.status == Status::digest_mismatch)
                              ctx_.log().info("an upload did not match its digest and was discarded");
                          if (out->completed_now && !put->replica) replicate(*put, out->expiry_ms);
                      });
}

bool StoreRuntime::admit_upload(std::uint64_t link, std::size_t bytes) {
    const auto now = now_ms();
    // Forget links idle for a minute (their buckets are full again by then anyway).
    if (upload_rates_.size() > 4096)
        std::erase_if(upload_rates_, [now](const auto& e) { return e.second.last_ms() + 60'000 < now; });
    auto it = upload_rates_.try_emplace(link, settings_.upload_bytes_per_second, settings_.upload_byte_burst).first;
    return it->second.allow(now, static_cast<double>(bytes));
}

// Pushes a newly completed blob to every other member of its swarm (they store it as a replica).
void StoreRuntime::replicate(const PutRequest& done, std::uint64_t expiry_ms) {
    if (!manifest_ || !own_key_) return;
    for (const auto& member : manifest_->members(manifest_->swarm_for(done.id))) {
        if (member.ed25519 == *own_key_) continue;
        auto push = std::make_shared<Push>();
        push->head.id = done.id;
        push->head.digest = done.digest;
        push->head.total_bytes = done.total_bytes;
        push->head.expiry_ms = expiry_ms;
        push->head.replica = true;
        push->address = address_of(member);
        push_chunk(std::move(push));
    }
}

void StoreRuntime::push_chunk(std::shared_ptr<Push> push) {
    if (push->next >= chunk_count(push->head.total_bytes)) return;
    auto store = store_;
    auto chunk = std::make_shared<Response>();
    GetRequest q{push->head.id, push->next};
    ctx_.run_blocking([store, q, chunk] { *chunk = store->get(q, now_ms()); },
                      [this, alive = alive_, push, chunk](std::exception_ptr e) {
                          if (!*alive || e || chunk->status != Status::ok) return;
                          auto client = peers_.get(push->address);
                          if (!client) return;
                          PutRequest p = push->head;
                          p.index = push->next;
                          p.bytes = std::move(std::get<GetResponse>(chunk->body).bytes);
                          auto frame = tr::encode_service_request(kServiceName, encode_request(p));
                          client.value()->request(std::move(frame), kPeerTimeoutMs, [this, alive, push](sdk::Result<Bytes> r) {
                              if (!*alive) return;
                              bool ok = false;
                              if (r) {
                                  try {
                                      auto tresp = tr::decode_service_response(r.value(), kChunkBytes + 4096);
                                      ok = tresp.ok() && tresp.value().status == tr::Status::ok &&
                                           decode_response(Method::put, tresp.value().body).status == Status::ok;
                                  } catch (const wire::DecodeError&) {
                                  }
                              }
                              // A peer that misses a replica can still be read from the others.
                              if (!ok) {
                                  ctx_.log().debug("replicating an attachment to a swarm peer failed");
                                  return;
                              }
                              ++push->next;
                              push_chunk(push);
                          });
                      });
}

void StoreRuntime::to_peer(const std::string& address, const Request& q, Method method,
                           std::function<void(std::optional<Response>)> done) {
    auto client = peers_.get(address);
    if (!client) return done(std::nullopt);
    client.value()->request(tr::encode_service_request(kServiceName, encode_request(q)), kPeerTimeoutMs,
                            [alive = alive_, method, done = std::move(done)](sdk::Result<Bytes> r) {
                                if (!*alive) return;
                                if (!r) return done(std::nullopt);
                                try {
                                    auto t = tr::decode_service_response(r.value(), kChunkBytes + 4096);
                                    if (!t || t.value().status != tr::Status::ok) return done(std::nullopt);
                                    auto resp = decode_response(method, t.value().body);
                                    if (resp.status != Status::ok) return done(std::nullopt);
                                    done(std::move(resp));
                                } catch (const wire::DecodeError&) {
                                    done(std::nullopt);
                                }
                            });
}

// Catch-up (on joining a swarm, then every catch_up_ms): what a member missed while it was
// down is fetched from the others, so a blob's copies come back to the whole swarm.
void StoreRuntime::start_catch_up() {
    if (catching_up_ || !manifest_ || !own_key_) return;
    const auto* self = manifest_->find(*own_key_);
    if (!self) return;
    auto c = std::make_shared<CatchUp>();
    for (const auto& m : manifest_->members(self->swarm))
        if (m.ed25519 != *own_key_) c->peers.push_back(address_of(m));
    if (c->peers.empty()) return;
    catching_up_ = true;
    catch_up_peer(std::move(c));
}

void StoreRuntime::catch_up_peer(std::shared_ptr<CatchUp> c) {
    if (c->peer >= c->peers.size()) {
        catching_up_ = false;
        if (c->fetched) ctx_.log().info("attachment catch-up: {} blobs fetched from swarm peers", c->fetched);
        return;
    }
    c->cursor.reset();
    catch_up_list(std::move(c));
}

// Lists the current peer's blobs after the cursor, signed by the node (only swarm members may list).
void StoreRuntime::catch_up_list(std::shared_ptr<CatchUp> c) {
    auto q = std::make_shared<ListRequest>();
    q->after = c->cursor;
    q->requester = *own_key_;
    q->timestamp_ms = now_ms();
    bool queued = ctx_.bus().request<sdk::node::Sign>(
        {list_signed_bytes(*q)}, kLocalTimeoutMs, [this, alive = alive_, c, q](sdk::Result<sdk::node::Signed> s) {
            if (!*alive) return;
            if (!s) {
                catching_up_ = false;  // retried at the next catch_up_ms
                return ctx_.log().warn("attachment catch-up: the node did not sign ({})", s.error().describe());
            }
            q->signature = s.value().signature;
            catch_up_page(c, *q);
        });
    if (!queued) catching_up_ = false;
}

void StoreRuntime::catch_up_page(std::shared_ptr<CatchUp> c, const ListRequest& q) {
    to_peer(c->peers[c->peer], q, Method::list, [this, c](std::optional<Response> r) {
        if (!r) {
            ++c->peer;
            return catch_up_peer(c);
        }
        auto page = std::get<ListResponse>(std::move(r->body));
        // A page must move the cursor forward: a peer repeating one ends its turn instead of
        // holding catch-up forever.
        const bool advances = !page.blobs.empty() && (!c->cursor || *c->cursor < page.blobs.back().id);
        const bool more = page.more && advances;
        if (advances) c->cursor = page.blobs.back().id;
        // Only blobs of this swarm (a peer of a former swarm may list others).
        std::erase_if(page.blobs, [this](const BlobEntry& e) { return check_owner(e.id).has_value(); });
        auto store = store_;
        auto missing = std::make_shared<std::vector<BlobEntry>>();
        ctx_.run_blocking([store, page = std::move(page.blobs), missing] { *missing = store->missing(page, now_ms()); },
                          [this, alive = alive_, c, missing, more](std::exception_ptr e) {
                              if (!*alive) return;
                              c->wanted = e ? std::vector<BlobEntry>{} : std::move(*missing);
                              c->blob = 0;
                              c->chunk = 0;
                              if (!c->wanted.empty()) return catch_up_fetch(c);
                              if (more) return catch_up_list(c);
                              ++c->peer;
                              catch_up_peer(c);
                          });
    });
}

void StoreRuntime::catch_up_fetch(std::shared_ptr<CatchUp> c) {
    if (c->blob >= c->wanted.size()) {
        if (c->cursor) return catch_up_list(c);  // the next page (an empty one ends the peer)
        ++c->peer;
        return catch_up_peer(c);
    }
    const auto& want = c->wanted[c->blob];
    to_peer(c->peers[c->peer], GetRequest{want.id, c->chunk}, Method::get, [this, c](std::optional<Response> r) {
        const auto& w = c->wanted[c->blob];
        auto skip_blob = [this, c] {
            ++c->blob;
            c->chunk = 0;
            catch_up_fetch(c);
        };
        if (!r) return skip_blob();
        auto& g = std::get<GetResponse>(r->body);
        if (g.total_bytes != w.total_bytes || g.index != c->chunk) return skip_blob();
        PutRequest p{w.id, w.digest, w.total_bytes, w.expiry_ms, true, c->chunk, std::move(g.bytes)};
        auto store = store_;
        auto out = std::make_shared<PutOutcome>();
        ctx_.run_blocking([store, p = std::move(p), out] { *out = store->put(p, now_ms()); },
                          [this, alive = alive_, c, out, skip_blob](std::exception_ptr e) {
                              if (!*alive) return;
                              if (e || out->response.status != Status::ok) return skip_blob();
                              if (out->completed_now) ++c->fetched;
                              if (std::get<PutResponse>(out->response.body).complete) return skip_blob();
                              ++c->chunk;
                              catch_up_fetch(c);
                          });
    });
}

}  // namespace veil::attachment_store
