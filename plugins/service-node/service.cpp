#include "service.hpp"

#include <algorithm>

namespace veil::node {

namespace {

// Reads of public namespaces (bundles, device lists) are open to anyone.
bool public_read(const RequestBody& body) {
    if (const auto* q = std::get_if<RetrieveRequest>(&body)) return is_public_namespace(q->ns);
    if (const auto* q = std::get_if<SubscribeRequest>(&body)) return is_public_namespace(q->ns);
    return false;
}

}  // namespace

StorageService::StorageService(const crypto::SigningKeyPair& node_key, MessageStore& store, Limits limits,
                               proto::ManifestVerifier verifier, std::string version)
    : node_key_(node_key),
      store_(store),
      limits_(limits),
      version_(std::move(version)),
      replay_(limits.clock_window_ms),
      peer_replay_(limits.clock_window_ms),
      verifier_(std::move(verifier)) {}

proto::ManifestCheck StorageService::update_manifest(ByteView envelope, std::uint64_t now_ms) {
    auto signed_manifest = proto::decode_signed_manifest(envelope);
    std::lock_guard lock(mutex_);
    auto check = verifier_.accept(signed_manifest, now_ms);
    if (check == proto::ManifestCheck::ok &&
        (!manifest_ || signed_manifest.manifest.version > manifest_->manifest.version)) {
        manifest_ = std::make_shared<const proto::SignedManifest>(std::move(signed_manifest));
        manifest_envelope_.assign(envelope.begin(), envelope.end());
        history_.add(manifest_, manifest_envelope_);
    }
    return check;
}

Bytes StorageService::manifest_envelope() const {
    std::lock_guard lock(mutex_);
    return manifest_envelope_;
}

std::shared_ptr<const proto::Manifest> StorageService::manifest() const {
    std::lock_guard lock(mutex_);
    if (!manifest_) return nullptr;
    return {manifest_, &manifest_->manifest};  // shares ownership of the signed manifest
}

std::uint64_t StorageService::manifest_version() const {
    std::lock_guard lock(mutex_);
    return manifest_ ? manifest_->manifest.version : 0;
}

SwarmId StorageService::own_swarm() const {
    std::lock_guard lock(mutex_);
    if (!manifest_) return proto::kInvalidSwarm;
    const auto* me = manifest_->manifest.find(node_key_.pub);
    return me ? me->swarm : proto::kInvalidSwarm;
}

std::vector<proto::NodeEntry> StorageService::swarm_peers() const {
    SwarmId swarm = own_swarm();
    std::lock_guard lock(mutex_);
    std::vector<proto::NodeEntry> out;
    if (!manifest_ || swarm == proto::kInvalidSwarm) return out;
    for (auto& n : manifest_->manifest.members(swarm))
        if (n.ed25519 != node_key_.pub) out.push_back(std::move(n));
    return out;
}

bool StorageService::owns(const PublicKey& mailbox) const {
    SwarmId swarm = own_swarm();
    std::lock_guard lock(mutex_);
    return manifest_ && swarm != proto::kInvalidSwarm && manifest_->manifest.swarm_for(mailbox) == swarm;
}

SwarmResponse StorageService::swarm_response(SwarmId swarm) const {
    std::lock_guard lock(mutex_);
    SwarmResponse s;
    s.swarm = swarm;
    if (manifest_) s.members = manifest_->manifest.members(swarm);
    return s;
}

std::optional<Response> StorageService::redirect_if_foreign(std::uint32_t id, const PublicKey& mailbox) const {
    SwarmId right;
    {
        std::lock_guard lock(mutex_);
        if (!manifest_) return error_response(id, Status::not_ready, to_string(Status::not_ready));
        right = manifest_->manifest.swarm_for(mailbox);
    }
    if (right == own_swarm()) return std::nullopt;
    return Response{id, Status::wrong_swarm, swarm_response(right)};
}

Outcome StorageService::store(std::uint32_t id, const RequestBody& body, std::uint64_t now_ms) {
    const auto& q = std::get<StoreRequest>(body);
    if (auto st = check_store(limits_, q); st != Status::ok) return {error_response(id, st, to_string(st))};
    // Strangers may only drop envelopes; every other namespace takes the owner's stores only.
    if (!q.auth && store_needs_owner(q.ns))
        return {error_response(id, Status::unauthorized,
                               "namespace " + std::to_string(q.ns) + " takes owner-signed stores only")};
    if (q.auth) {
        if (auto st = replay_.verify_owner(body, now_ms); st != Status::ok) return {error_response(id, st, to_string(st))};
    }
    // A stranger's work buys the stretch from its timestamp to timestamp + TTL: the message
    // lives no longer, and the same proof re-sent after it expired proves nothing.
    const bool work_live = q.work && store_work_live(*q.work, q.ttl_ms, now_ms, limits_.clock_window_ms);
    const std::uint64_t stored_at = work_live ? std::min(q.work->timestamp_ms, now_ms) : now_ms;
    // What allowed the store stays with the row, so every replica can check it again: the
    // owner's signature, or a stranger's work (which each replica prices against its own fill).
    StoredMessage m{q.mailbox, q.ns, message_hash(q.mailbox, q.ns, q.data), stored_at + q.ttl_ms, q.data,
                    q.auth ? encode_store_auth(q) : work_live ? encode_work_auth(q) : Bytes{}};
    // Every new message pays by how full the node is (free under half): keypairs cost nothing,
    // so neither do mailboxes, and the owner's signature alone cannot be what spends the node.
    // A stranger's envelope also pays by how full its namespace is (free under a quarter): a
    // flood cannot fill it cheaply, and a real sender pays at most what the flood last paid.
    Payment payment{q.ttl_ms, work_live ? proven_store_work(q.mailbox, q.ns, m.hash, q.ttl_ms, *q.work) : 0,
                    !q.auth, 0, work_live ? q.work->timestamp_ms : 0};
    std::uint64_t held_expiry_ms = m.expiry_ms;
    auto outcome = store_.store(m, now_ms, q.auth ? q.auth->timestamp_ms : 0, &held_expiry_ms, &payment);
    if (outcome == StoreOutcome::unpaid)
        return {Response{id, Status::pow_required,
                         WorkRequiredResponse{payment.asked_work, "this store asks proof of work for " +
                                                                      std::to_string(payment.asked_work) + " hashes"}}};
    if (outcome == StoreOutcome::quota_exceeded)
        return {error_response(id, Status::quota_exceeded, to_string(Status::quota_exceeded))};
    if (outcome == StoreOutcome::held)
        return {error_response(id, Status::bad_request,
                               "its owner expired this message early: it is held, unserved, until " +
                                   std::to_string(held_expiry_ms) + " and cannot be stored again before")};
    if (outcome == StoreOutcome::node_full)
        return {error_response(id, Status::quota_exceeded, "this node is full")};
    Outcome out;
    out.response = Response{id, Status::ok, StoreResponse{m.hash, outcome == StoreOutcome::stored, held_expiry_ms}};
    if (outcome == StoreOutcome::stored) {
        out.replicate.push_back(
            ReplicaOp{MessageState{m.hash, m.mailbox, m.ns, m.expiry_ms, false}, m.data, nullptr, m.store_auth});
        out.notify = Wake{m.mailbox, m.ns};
    }
    return out;
}

Outcome StorageService::resume_subscribe(std::uint32_t id, const SubscribeRequest& q, std::uint64_t now_ms) {
    auto page = store_.retrieve(q.mailbox, q.ns, clamp_page(limits_, q.page), now_ms);
    Outcome out;
    out.park = page.messages.empty();
    out.response = Response{id, Status::ok, std::move(page)};
    return out;
}

Outcome StorageService::handle(const Request& request, std::uint64_t now_ms) {
    const std::uint32_t id = request.id;
    try {
        const auto& body = request.body;
        if (auto* q = std::get_if<PeerRequest>(&body)) return handle_peer(id, *q, now_ms);
        if (std::holds_alternative<InfoRequest>(body))
            return {Response{id, Status::ok, InfoResponse{version_, node_key_.pub, own_swarm(), manifest_version(),
                                                          now_ms, peer_signature_checks(), parked_subscribes_.load()}}};
        if (auto* q = std::get_if<GetManifestRequest>(&body)) {
            std::lock_guard lock(mutex_);
            if (!manifest_) return {error_response(id, Status::not_ready, to_string(Status::not_ready))};
            return {Response{id, Status::ok, history_.answer(q->held_version)}};
        }
        if (auto* q = std::get_if<GetSwarmRequest>(&body)) {
            std::lock_guard lock(mutex_);
            if (!manifest_) return {error_response(id, Status::not_ready, to_string(Status::not_ready))};
            SwarmId s = manifest_->manifest.swarm_for(q->mailbox);
            return {Response{id, Status::ok, SwarmResponse{s, manifest_->manifest.members(s)}}};
        }
        // Challenges need the node's address: NodeRuntime answers them.
        if (std::holds_alternative<ChallengeRequest>(body))
            return {error_response(id, Status::unknown_method, to_string(Status::unknown_method))};
        // Everything below addresses one mailbox, which must be in this node's swarm.
        const PublicKey& mailbox = std::visit(
            [](const auto& q) -> const PublicKey& {
                if constexpr (requires { q.mailbox; }) return q.mailbox;
                else throw std::logic_error("no mailbox");
            },
            body);
        if (auto redirect = redirect_if_foreign(id, mailbox)) return {*redirect};
        if (std::holds_alternative<StoreRequest>(body)) return store(id, body, now_ms);

        if (!public_read(body)) {
            if (auto st = replay_.check_owner(body, now_ms); st != Status::ok) return {error_response(id, st, to_string(st))};
        }
        if (auto* q = std::get_if<RetrieveRequest>(&body)) {
            return {Response{id, Status::ok, store_.retrieve(q->mailbox, q->ns, clamp_page(limits_, q->page), now_ms)}};
        }
        if (auto* q = std::get_if<SubscribeRequest>(&body)) {
            auto out = resume_subscribe(id, *q, now_ms);
            out.park = out.park && q->wait_ms > 0;
            return out;
        }
        if (auto* q = std::get_if<DeleteRequest>(&body)) {
            // The owner's signed request is the proof replicas need; it stays with the tombstones.
            auto proof = std::make_shared<const Bytes>(encode_owner_proof(body));
            auto done = store_.remove(q->mailbox, q->ns, q->hashes, now_ms, {*proof, q->auth.timestamp_ms});
            Outcome out;
            // The tombstone keeps the message's expiry; peers only need to learn it is deleted, so
            // the state carries the maximal expiry and the merge keeps each replica's own.
            for (const auto& h : done)
                out.replicate.push_back(
                    ReplicaOp{MessageState{h, q->mailbox, q->ns, limits_.max_ttl_ms + now_ms, true}, {}, proof});
            out.response = Response{id, Status::ok, HashesResponse{std::move(done)}};
            return out;
        }
        if (auto* q = std::get_if<ExpireRequest>(&body)) {
            if (auto st = check_expiry(limits_, q->expiry_ms, now_ms); st != Status::ok)
                return {error_response(id, st, to_string(st))};
            auto proof = std::make_shared<const Bytes>(encode_owner_proof(body));
            auto done =
                store_.expire(q->mailbox, q->ns, q->hashes, q->expiry_ms, now_ms, {*proof, q->auth.timestamp_ms});
            Outcome out;
            for (const auto& h : done)
                out.replicate.push_back(ReplicaOp{MessageState{h, q->mailbox, q->ns, q->expiry_ms, false}, {}, proof});
            out.response = Response{id, Status::ok, HashesResponse{std::move(done)}};
            return out;
        }
        return {error_response(id, Status::unknown_method, to_string(Status::unknown_method))};
    } catch (const wire::DecodeError& e) {
        return {error_response(id, Status::bad_request, e.what())};
    } catch (const StoreError& e) {
        // A full disk refuses the write (the transaction rolls back: nothing stored is lost) and
        // says so, so that its operator and the client's log know why; reads go on.
        if (e.failure() == sql::Failure::disk_full) return {error_response(id, Status::internal, "this node's disk is full")};
        return {error_response(id, Status::internal, "storage failure")};
    }
}

namespace {

// Whether a verified owner change justifies the state: same mailbox and namespace, the message
// listed, and a deletion for a deletion or an expiry no lower than the owner asked.
bool proves(const std::optional<OwnerChange>& c, const MessageState& s) {
    if (!c || c->mailbox != s.mailbox || c->ns != s.ns || !c->covers(s.hash)) return false;
    return s.deleted ? c->deleted : (!c->deleted && s.expiry_ms >= c->expiry_ms);
}

}  // namespace

bool StorageService::charge_verify(const PublicKey& member, std::uint64_t now_ms) {
    std::lock_guard lock(budget_mutex_);
    auto it = verify_budgets_.try_emplace(member, limits_.peer_verifies_per_second, limits_.peer_verify_burst).first;
    if (!it->second.allow(now_ms)) return false;
    ++replica_signature_checks_;
    return true;
}

std::optional<Wake> StorageService::apply_replica(const std::vector<ReplicaOp>& ops, const PublicKey& from,
                                                       std::uint64_t now_ms) {
    std::map<const Bytes*, std::optional<OwnerChange>> opened;  // each shared proof verified once
    // Each proof's share of the request: the rows it tombstones here count as held by the
    // density rule (a replica that held none adopts the tombstones), decided once for all ops.
    std::map<const Bytes*, ProofInBatch> batches;
    for (const auto& op : ops)
        if (op.proof && op.state.deleted) batches[op.proof.get()].tombstoned.insert(op.state.hash);
    std::optional<Wake> notify;
    Payment payment;
    for (const auto& op : ops) {
        if (!owns(op.state.mailbox)) continue;
        // Replicated state cannot outlive what a client could ask for.
        ReplicaChange c{op.state};
        MessageState& s = c.state;
        s.expiry_ms = std::min(s.expiry_ms, now_ms + limits_.max_ttl_ms);
        if (op.data) {
            if (op.data->size() > limits_.max_data_bytes) continue;  // more than a client may store
            // A store: into a namespace only the owner writes, only with the owner's signature,
            // checked as the client's store was (same mailbox, namespace and data).
            c.data = &*op.data;
            const std::uint8_t kind = op.store_auth.empty() ? 0 : op.store_auth[0];
            if (kind == kOwnerStoreAuth) {
                if (!charge_verify(from, now_ms)) break;
                auto signed_store = open_store_auth(op.store_auth, s.mailbox, s.ns, *op.data);
                if (!signed_store) break;  // a member sending bogus signatures gets no further
                if (!ttl_in_range(limits_, signed_store->ttl_ms)) continue;  // not a store a client could make
                c.store_auth = &op.store_auth;
                c.owner_ms = signed_store->timestamp_ms;
                // The node's bytes have a price for owners too; the owner's work is not kept
                // with the row, so a replica takes it free only under its free fraction.
                payment = Payment{signed_store->ttl_ms, 0, false};
                c.payment = &payment;
                // Not longer than the owner asked for when it signed.
                s.expiry_ms = std::min(s.expiry_ms, signed_store->timestamp_ms + signed_store->ttl_ms +
                                                        limits_.clock_window_ms);
            } else if (store_needs_owner(s.ns)) {
                continue;
            } else {
                // A stranger's envelope pays this replica's own price at its own fill, with the
                // work the sender did (store auth kind 2), or with none: free only under the
                // free fraction, as a client's store here would be.
                payment = Payment{std::max<std::uint64_t>(s.expiry_ms - std::min(s.expiry_ms, now_ms), 1), 0};
                auto paid = kind == kWorkStoreAuth ? open_work_auth(op.store_auth, s.mailbox, s.ns, s.hash) : std::nullopt;
                if (paid && !ttl_in_range(limits_, paid->ttl_ms)) continue;  // not a store a client could make
                if (paid && store_work_live(paid->work, paid->ttl_ms, now_ms, limits_.clock_window_ms)) {
                    payment = Payment{paid->ttl_ms, paid->proven_work, true, 0, paid->work.timestamp_ms};
                    c.store_auth = &op.store_auth;
                    s.expiry_ms = std::min(s.expiry_ms, paid->work.timestamp_ms + paid->ttl_ms);
                }
                c.payment = &payment;
            }
        } else if (op.proof) {
            auto it = opened.find(op.proof.get());
            if (it == opened.end()) {
                if (!charge_verify(from, now_ms)) break;
                it = opened.emplace(op.proof.get(), open_owner_proof(*op.proof)).first;
                if (!it->second) break;  // a member sending bogus proofs gets no further
            }
            if (proves(it->second, s)) {
                c.proof = op.proof.get();
                c.proof_hashes = &it->second->hashes;
                c.batch = &batches[op.proof.get()];
                c.owner_ms = it->second->timestamp_ms;
                // What it deleted or shortened lived at most max_ttl after the owner signed: an old
                // proof cannot make a fresh two-week tombstone.
                s.expiry_ms = std::min(s.expiry_ms, c.owner_ms + limits_.max_ttl_ms + limits_.clock_window_ms);
            }
        }
        // A tombstone or shorter expiry without the owner's word is ignored by the merge itself.
        bool changed = store_.merge(c, now_ms);
        if (changed && !s.deleted && op.data) notify = Wake{s.mailbox, s.ns};
    }
    return notify;
}

Status StorageService::admit_peer(ByteView envelope) {
    auto header = peek_peer(envelope);
    if (!header) return Status::bad_request;
    std::lock_guard lock(mutex_);
    const auto* me = manifest_ ? manifest_->manifest.find(node_key_.pub) : nullptr;
    const auto* sender = manifest_ ? manifest_->manifest.find(header->sender) : nullptr;
    if (!me || !sender || sender->swarm != me->swarm || header->sender == node_key_.pub ||
        header->recipient != node_key_.pub)
        return Status::unauthorized;
    return Status::ok;
}

bool StorageService::charge_member(const PublicKey& member, std::size_t envelope_bytes, std::uint64_t now_ms) {
    std::lock_guard lock(budget_mutex_);
    auto it = budgets_.try_emplace(member, limits_).first;
    return it->second.allow(now_ms, envelope_bytes);
}

Bytes StorageService::summary_bytes(std::uint64_t now_ms) {
    // Summaries only start a catch-up (the pages that follow are read fresh), so one a second old
    // is as good; a flood of them (500/s per member) then reads every state once a period instead
    // of once a request, and stores are not held behind the scans. Requests arriving while one is
    // computed wait for it here, not on the store.
    const auto version = manifest_version();
    std::lock_guard lock(summary_mutex_);
    const bool fresh = !summary_.empty() && summary_version_ == version && now_ms >= summary_ms_ &&
                       now_ms - summary_ms_ < limits_.summary_max_age_ms;
    if (!fresh) {
        summary_ = encode_summary(store_.summary(now_ms, [this](const PublicKey& mailbox) { return owns(mailbox); }));
        summary_ms_ = now_ms;
        summary_version_ = version;
    }
    return summary_;
}

BucketPage StorageService::bucket_page(std::uint8_t bucket, const std::optional<Hash>& after, std::uint64_t now_ms) {
    // Each state travels with the owner's proof kept for it, so the peer can verify it.
    return store_.bucket_page(bucket, after, now_ms, [this](const PublicKey& mailbox) { return owns(mailbox); },
                              limits_.bucket_page_states, limits_.bucket_page_bytes);
}

Outcome StorageService::handle_peer(std::uint32_t id, const PeerRequest& q, std::uint64_t now_ms) {
    // Membership and recipient first: a stranger's envelope costs no decoding and no signature
    // check, whatever its size. (The node runtime charged the frame to the link it came by.)
    if (auto st = admit_peer(q.envelope); st != Status::ok) {
        const char* why = st == Status::unauthorized ? "sender is not a member of this swarm or not for this node"
                                                     : to_string(st);
        return {error_response(id, st, why)};
    }
    auto env = open_peer(q.envelope);
    if (!replay_.in_window(env.timestamp_ms, now_ms))
        return {error_response(id, Status::clock_out_of_window, to_string(Status::clock_out_of_window))};
    ++peer_signature_checks_;
    if (!verify_peer(env)) return {error_response(id, Status::bad_signature, to_string(Status::bad_signature))};
    if (auto st = peer_replay_.check_fresh(env.signature, env.timestamp_ms, now_ms); st != Status::ok)
        return {error_response(id, st, to_string(st))};
    // Only now is the sender known: anyone can name a member in the header, so charging the
    // member before this would let a stranger spend its budget.
    if (!charge_member(env.sender, q.envelope.size(), now_ms))
        return {error_response(id, Status::rate_limited, to_string(Status::rate_limited))};
    SwarmId mine = own_swarm();
    Outcome out;
    if (auto* b = std::get_if<ReplicateBody>(&env.body)) {
        out.notify = apply_replica(b->ops, env.sender, now_ms);
        out.response = Response{id, Status::ok, PeerResponse{}};
    } else if (auto* s = std::get_if<SummaryBody>(&env.body)) {
        if (s->swarm != mine) return {error_response(id, Status::unauthorized, "not this swarm")};
        out.response = Response{id, Status::ok, PeerResponse{summary_bytes(now_ms)}};
    } else if (auto* k = std::get_if<BucketBody>(&env.body)) {
        if (k->swarm != mine) return {error_response(id, Status::unauthorized, "not this swarm")};
        out.response = Response{id, Status::ok, PeerResponse{encode_bucket_page(bucket_page(k->bucket, k->after, now_ms))}};
    } else if (auto* f = std::get_if<FetchBody>(&env.body)) {
        auto msgs = store_.fetch(f->hashes, kMaxFetchBytes, now_ms);
        std::erase_if(msgs, [&](const StoredMessage& m) { return !owns(m.mailbox); });
        out.response = Response{id, Status::ok, PeerResponse{encode_messages(msgs)}};
    }
    return out;
}

}  // namespace veil::node
