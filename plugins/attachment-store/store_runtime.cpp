#include "store_runtime.hpp"

#include <chrono>

#include "service-node/rpc.hpp"

namespace veil::attachment_store {

namespace tr = sdk::transport;

namespace {

constexpr std::uint32_t kLocalTimeoutMs = 5'000;
constexpr std::uint32_t kPeerTimeoutMs = 15'000;

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

tr::Response answer_of(const Response& r) { return tr::Response{tr::Status::ok, encode_response(r)}; }

sdk::net::ClientOptions peer_options() {
    sdk::net::ClientOptions o;
    o.max_frame_bytes = kChunkBytes + 4096;
    o.connect_timeout_ms = 2'000;
    return o;
}

}  // namespace

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
    refresh_membership();
    ctx_.set_interval(settings_.manifest_poll_ms, [this] { refresh_membership(); });
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

// The node's own key and manifest, from its storage service (already verified there).
void StoreRuntime::refresh_membership() {
    auto ask = [this](node::RequestBody body, node::Method method, std::function<void(const node::Response&)> then) {
        tr::Inbound in{"storage", node::encode_request({next_id_++, std::move(body)})};
        (void)ctx_.bus().request<tr::Inbound>(
            std::move(in), kLocalTimeoutMs,
            [alive = alive_, method, then = std::move(then)](sdk::Result<tr::Response> r) {
                if (!*alive || !r || r.value().status != tr::Status::ok) return;
                try {
                    auto resp = node::decode_response(method, r.value().body);
                    if (resp.status == node::Status::ok) then(resp);
                } catch (const std::exception&) {
                }
            },
            "storage");
    };
    if (!own_key_) {
        ask(node::InfoRequest{}, node::Method::info,
            [this](const node::Response& r) { own_key_ = std::get<node::InfoResponse>(r.body).node_key; });
    }
    ask(node::GetManifestRequest{}, node::Method::get_manifest, [this](const node::Response& r) {
        try {
            auto m = directory::decode_signed_manifest(std::get<node::ManifestResponse>(r.body).envelope).manifest;
            if (!manifest_ || m.version > manifest_->version) manifest_ = std::move(m);
        } catch (const std::exception&) {
        }
    });
}

std::optional<Response> StoreRuntime::check_owner(const BlobId& id) const {
    if (!manifest_ || !own_key_) return error(Status::not_ready, "the node has no manifest yet");
    const auto* self = manifest_->find(*own_key_);
    if (!self || self->swarm != manifest_->swarm_for(id))
        return error(Status::wrong_swarm, "this attachment belongs to another swarm");
    return std::nullopt;
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
    auto put = std::make_shared<PutRequest>(std::move(std::get<PutRequest>(req)));
    if (auto refused = check_owner(put->id)) {
        if (!manifest_) refresh_membership();  // just started: ask now rather than at the next poll
        answer.reply(answer_of(*refused));
        return;
    }
    auto out = std::make_shared<PutOutcome>();
    ctx_.run_blocking([store, put, out] { *out = store->put(*put, now_ms()); },
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
        push->address = member.host + ":" + std::to_string(member.port);
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

}  // namespace veil::attachment_store
