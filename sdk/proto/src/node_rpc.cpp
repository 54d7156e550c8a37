#include "veil/proto/node_rpc.hpp"

namespace veil::proto::node {

namespace {

using wire::to_array;

// Tags of a store's optional trailers.
constexpr std::uint8_t kAuthTrailer = 1;
// 2 was a work nonce without a time (one solve then bought a message forever): refused now.
constexpr std::uint8_t kWorkTrailer = 3;

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void put_hashes(wire::Writer& w, const std::vector<Hash>& hashes) {
    if (hashes.size() > kMaxHashesPerRequest) throw std::length_error("rpc: too many hashes");
    w.u16(static_cast<std::uint16_t>(hashes.size()));
    for (const auto& h : hashes) w.raw(h);
}

std::vector<Hash> get_hashes(wire::Reader& r) {
    std::uint16_t n = r.u16();
    if (n > kMaxHashesPerRequest) throw wire::DecodeError("rpc: too many hashes");
    std::vector<Hash> out;
    out.reserve(n);
    for (std::uint16_t i = 0; i < n; ++i) out.push_back(to_array<32>(r.raw(32)));
    return out;
}

void put_page(wire::Writer& w, const PageQuery& p) {
    w.u8(p.after ? 1 : 0);
    if (p.after) w.raw(*p.after);
    w.u32(p.max_count).u32(p.max_bytes);
}

PageQuery get_page(wire::Reader& r) {
    PageQuery p;
    std::uint8_t has = r.u8();
    if (has > 1) throw wire::DecodeError("rpc: bad cursor flag");
    if (has) p.after = to_array<32>(r.raw(32));
    p.max_count = r.u32();
    p.max_bytes = r.u32();
    return p;
}

void put_auth(wire::Writer& w, const OwnerAuth& a) { w.u64(a.timestamp_ms).raw(a.owner).raw(a.signature); }

OwnerAuth get_auth(wire::Reader& r) {
    OwnerAuth a;
    a.timestamp_ms = r.u64();
    a.owner = to_array<32>(r.raw(32));
    a.signature = to_array<64>(r.raw(64));
    return a;
}

PublicKey get_key(wire::Reader& r) { return to_array<32>(r.raw(32)); }

void put_node(wire::Writer& w, const proto::NodeEntry& n) {
    w.raw(n.ed25519).raw(n.x25519).str(n.host).u16(n.port).u64(n.swarm);
}

proto::NodeEntry get_node(wire::Reader& r) {
    proto::NodeEntry n;
    n.ed25519 = get_key(r);
    n.x25519 = get_key(r);
    n.host = r.str(proto::kMaxHostBytes);
    n.port = r.u16();
    n.swarm = r.u64();
    return n;
}

void put_body(wire::Writer& w, const RequestBody& body) {
    std::visit(Overloaded{
                   [&](const StoreRequest& q) {
                       w.raw(q.mailbox).u16(q.ns).u64(q.ttl_ms).var(q.data);
                       // Absent: no trailer at all (the pre-trailer format).
                       if (q.auth) put_auth(w.u8(kAuthTrailer), *q.auth);
                       if (q.work) w.u8(kWorkTrailer).u64(q.work->timestamp_ms).u64(q.work->nonce);
                   },
                   [&](const RetrieveRequest& q) {
                       w.raw(q.mailbox).u16(q.ns);
                       put_page(w, q.page);
                       put_auth(w, q.auth);
                   },
                   [&](const DeleteRequest& q) {
                       w.raw(q.mailbox).u16(q.ns);
                       put_hashes(w, q.hashes);
                       put_auth(w, q.auth);
                   },
                   [&](const ExpireRequest& q) {
                       w.raw(q.mailbox).u16(q.ns);
                       put_hashes(w, q.hashes);
                       w.u64(q.expiry_ms);
                       put_auth(w, q.auth);
                   },
                   [&](const GetSwarmRequest& q) { w.raw(q.mailbox); },
                   [&](const InfoRequest&) {},
                   [&](const SubscribeRequest& q) {
                       w.raw(q.mailbox).u16(q.ns);
                       put_page(w, q.page);
                       w.u32(q.wait_ms);
                       put_auth(w, q.auth);
                   },
                   [&](const GetManifestRequest& q) {
                       if (q.held_version) w.u64(*q.held_version);
                   },
                   [&](const PeerRequest& q) { w.var(q.envelope); },
                   [&](const ChallengeRequest& q) { w.raw(q.authority).raw(q.nonce); },
               },
               body);
}

RequestBody get_body(Method m, wire::Reader& r) {
    switch (m) {
        case Method::store: {
            StoreRequest q;
            q.mailbox = get_key(r);
            q.ns = r.u16();
            q.ttl_ms = r.u64();
            auto d = r.var(kMaxDataBytes);
            q.data.assign(d.begin(), d.end());
            // Trailers in order, each at most once: auth, then work.
            for (std::uint8_t last = 0; !r.done();) {
                std::uint8_t tag = r.u8();
                if (tag <= last) throw wire::DecodeError("rpc: bad store trailer");
                if (tag == kAuthTrailer) q.auth = get_auth(r);
                else if (tag == kWorkTrailer) q.work = StoreWork{r.u64(), r.u64()};
                else throw wire::DecodeError("rpc: bad store trailer");
                last = tag;
            }
            return q;
        }
        case Method::retrieve: {
            RetrieveRequest q;
            q.mailbox = get_key(r);
            q.ns = r.u16();
            q.page = get_page(r);
            q.auth = get_auth(r);
            return q;
        }
        case Method::remove: {
            DeleteRequest q;
            q.mailbox = get_key(r);
            q.ns = r.u16();
            q.hashes = get_hashes(r);
            q.auth = get_auth(r);
            return q;
        }
        case Method::expire: {
            ExpireRequest q;
            q.mailbox = get_key(r);
            q.ns = r.u16();
            q.hashes = get_hashes(r);
            q.expiry_ms = r.u64();
            q.auth = get_auth(r);
            return q;
        }
        case Method::get_swarm: return GetSwarmRequest{get_key(r)};
        case Method::info: return InfoRequest{};
        case Method::subscribe: {
            SubscribeRequest q;
            q.mailbox = get_key(r);
            q.ns = r.u16();
            q.page = get_page(r);
            q.wait_ms = r.u32();
            q.auth = get_auth(r);
            return q;
        }
        case Method::get_manifest: {
            GetManifestRequest q;
            if (!r.done()) q.held_version = r.u64();
            return q;
        }
        case Method::peer: {
            auto e = r.var(kMaxPeerBodyBytes);
            return PeerRequest{Bytes(e.begin(), e.end())};
        }
        case Method::challenge: {
            ChallengeRequest q;
            q.authority = get_key(r);
            q.nonce = to_array<32>(r.raw(32));
            return q;
        }
    }
    throw wire::DecodeError("rpc: unknown method " + std::to_string(static_cast<int>(m)));
}

void put_page_response(wire::Writer& w, const PageResponse& p) {
    w.u32(static_cast<std::uint32_t>(p.messages.size()));
    for (const auto& m : p.messages) w.raw(m.hash).u64(m.expiry_ms).var(m.data);
    w.u8(p.more ? 1 : 0);
}

PageResponse get_page_response(wire::Reader& r) {
    PageResponse p;
    std::uint32_t n = r.u32();
    if (n > kMaxMessagesPerResponse || n > r.remaining() / 44) throw wire::DecodeError("rpc: bad message count");
    for (std::uint32_t i = 0; i < n; ++i) {
        MessageItem m;
        m.hash = to_array<32>(r.raw(32));
        m.expiry_ms = r.u64();
        auto d = r.var(kMaxDataBytes);
        m.data.assign(d.begin(), d.end());
        p.messages.push_back(std::move(m));
    }
    std::uint8_t more = r.u8();
    if (more > 1) throw wire::DecodeError("rpc: bad more flag");
    p.more = more == 1;
    return p;
}

void put_swarm(wire::Writer& w, const SwarmResponse& s) {
    w.u64(s.swarm).u16(static_cast<std::uint16_t>(s.members.size()));
    for (const auto& n : s.members) put_node(w, n);
}

SwarmResponse get_swarm(wire::Reader& r) {
    SwarmResponse s;
    s.swarm = r.u64();
    std::uint16_t n = r.u16();
    if (n > r.remaining() / 78) throw wire::DecodeError("rpc: bad member count");
    for (std::uint16_t i = 0; i < n; ++i) s.members.push_back(get_node(r));
    return s;
}

}  // namespace

const char* to_string(Status s) {
    switch (s) {
        case Status::ok: return "ok";
        case Status::bad_request: return "bad request";
        case Status::unknown_method: return "unknown method";
        case Status::bad_signature: return "bad signature";
        case Status::clock_out_of_window: return "timestamp outside the clock window";
        case Status::replayed: return "request replayed";
        case Status::too_large: return "data too large";
        case Status::bad_ttl: return "TTL outside the allowed range";
        case Status::quota_exceeded: return "mailbox quota exceeded";
        case Status::rate_limited: return "rate limited";
        case Status::wrong_swarm: return "mailbox belongs to another swarm";
        case Status::not_ready: return "node not ready (no manifest)";
        case Status::internal: return "internal error";
        case Status::unauthorized: return "unauthorized";
        case Status::pow_required: return "proof of work required";
    }
    return "unknown status";
}

const char* to_string(Method m) {
    switch (m) {
        case Method::store: return "store";
        case Method::retrieve: return "retrieve";
        case Method::remove: return "delete";
        case Method::expire: return "expire";
        case Method::get_swarm: return "get_swarm";
        case Method::info: return "info";
        case Method::subscribe: return "subscribe";
        case Method::get_manifest: return "get_manifest";
        case Method::peer: return "peer";
        case Method::challenge: return "challenge";
    }
    return "unknown";
}

Method method_of(const RequestBody& body) {
    return std::visit(Overloaded{
                          [](const StoreRequest&) { return Method::store; },
                          [](const RetrieveRequest&) { return Method::retrieve; },
                          [](const DeleteRequest&) { return Method::remove; },
                          [](const ExpireRequest&) { return Method::expire; },
                          [](const GetSwarmRequest&) { return Method::get_swarm; },
                          [](const InfoRequest&) { return Method::info; },
                          [](const SubscribeRequest&) { return Method::subscribe; },
                          [](const GetManifestRequest&) { return Method::get_manifest; },
                          [](const PeerRequest&) { return Method::peer; },
                          [](const ChallengeRequest&) { return Method::challenge; },
                      },
                      body);
}

Bytes encode_request(const Request& r) {
    wire::Writer w;
    w.u8(kProtocolVersion).u8(static_cast<std::uint8_t>(method_of(r.body))).u32(r.id);
    put_body(w, r.body);
    return w.take();
}

Request decode_request(ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kProtocolVersion) throw wire::DecodeError("rpc: unsupported protocol version");
    auto m = static_cast<Method>(r.u8());
    Request q;
    q.id = r.u32();
    q.body = get_body(m, r);
    r.expect_done();
    return q;
}

std::uint32_t peek_request_id(ByteView bytes) {
    if (bytes.size() < 6) return 0;
    wire::Reader r(bytes.subspan(2, 4));
    return r.u32();
}

Bytes encode_response(Method method, const Response& resp) {
    wire::Writer w;
    w.u8(kProtocolVersion).u32(resp.id).u8(static_cast<std::uint8_t>(resp.status));
    std::visit(Overloaded{
                   [&](const StoreResponse& s) { w.raw(s.hash).u8(s.newly_stored ? 1 : 0).u64(s.expiry_ms); },
                   [&](const PageResponse& p) { put_page_response(w, p); },
                   [&](const HashesResponse& h) { put_hashes(w, h.hashes); },
                   [&](const SwarmResponse& s) { put_swarm(w, s); },
                   [&](const InfoResponse& i) {
                       w.str(i.version).raw(i.node_key).u64(i.swarm).u64(i.manifest_version).u64(i.now_ms);
                       w.u64(i.peer_signature_checks).u64(i.parked_subscribes);
                   },
                   [&](const ManifestResponse& m) {
                       w.var(m.envelope);
                       // full: no trailer (the format before diffs)
                       if (m.kind == ManifestAnswer::current) w.u8(static_cast<std::uint8_t>(m.kind));
                       if (m.kind == ManifestAnswer::diff) w.u8(static_cast<std::uint8_t>(m.kind)).var(m.diff);
                   },
                   [&](const ChallengeResponse& c) { w.raw(c.signature); },
                   [&](const PeerResponse& p) { w.var(p.body); },
                   [&](const ErrorResponse& e) { w.str(e.message.substr(0, kMaxErrorBytes)); },
                   [&](const WorkRequiredResponse& e) { w.u64(e.work).str(e.message.substr(0, kMaxErrorBytes)); },
               },
               resp.body);
    (void)method;
    return w.take();
}

Response decode_response(Method method, ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kProtocolVersion) throw wire::DecodeError("rpc: unsupported protocol version");
    Response resp;
    resp.id = r.u32();
    std::uint8_t status = r.u8();
    if (status < 1 || status > static_cast<std::uint8_t>(Status::pow_required))
        throw wire::DecodeError("rpc: unknown status");
    resp.status = static_cast<Status>(status);
    if (resp.status == Status::wrong_swarm) {
        resp.body = get_swarm(r);
    } else if (resp.status == Status::pow_required) {
        WorkRequiredResponse w;
        w.work = r.u64();
        w.message = r.str(kMaxErrorBytes);
        resp.body = std::move(w);
    } else if (resp.status != Status::ok) {
        resp.body = ErrorResponse{r.str(kMaxErrorBytes)};
    } else {
        switch (method) {
            case Method::store: {
                StoreResponse s;
                s.hash = to_array<32>(r.raw(32));
                std::uint8_t fresh = r.u8();
                if (fresh > 1) throw wire::DecodeError("rpc: bad flag");
                s.newly_stored = fresh == 1;
                s.expiry_ms = r.u64();
                resp.body = s;
                break;
            }
            case Method::retrieve:
            case Method::subscribe: resp.body = get_page_response(r); break;
            case Method::remove:
            case Method::expire: resp.body = HashesResponse{get_hashes(r)}; break;
            case Method::get_swarm: resp.body = get_swarm(r); break;
            case Method::info: {
                InfoResponse i;
                i.version = r.str(64);
                i.node_key = get_key(r);
                i.swarm = r.u64();
                i.manifest_version = r.u64();
                i.now_ms = r.u64();
                if (r.remaining() > 0) i.peer_signature_checks = r.u64();
                if (r.remaining() > 0) i.parked_subscribes = r.u64();
                resp.body = i;
                break;
            }
            case Method::get_manifest: {
                auto e = r.var(proto::kMaxManifestBodyBytes + 4096);
                ManifestResponse m{Bytes(e.begin(), e.end()), ManifestAnswer::full, {}};
                if (!r.done()) {
                    std::uint8_t kind = r.u8();
                    if (!m.envelope.empty()) throw wire::DecodeError("rpc: manifest answer with both forms");
                    if (kind == static_cast<std::uint8_t>(ManifestAnswer::current)) {
                        m.kind = ManifestAnswer::current;
                    } else if (kind == static_cast<std::uint8_t>(ManifestAnswer::diff)) {
                        m.kind = ManifestAnswer::diff;
                        auto d = r.var(proto::kMaxManifestBodyBytes + 4096);
                        m.diff.assign(d.begin(), d.end());
                    } else {
                        throw wire::DecodeError("rpc: unknown manifest answer");
                    }
                }
                resp.body = std::move(m);
                break;
            }
            case Method::challenge: resp.body = ChallengeResponse{to_array<64>(r.raw(64))}; break;
            case Method::peer: {
                auto e = r.var(kMaxPeerBodyBytes);
                resp.body = PeerResponse{Bytes(e.begin(), e.end())};
                break;
            }
            default: throw wire::DecodeError("rpc: unknown method");
        }
    }
    r.expect_done();
    return resp;
}

Response error_response(std::uint32_t id, Status status, std::string message) {
    return Response{id, status, ErrorResponse{std::move(message)}};
}

}  // namespace veil::proto::node
