#include "veil/proto/blob_rpc.hpp"

#include <sodium.h>

#include <algorithm>

namespace veil::proto::blob {

namespace {

constexpr char kIdContext[] = "veil-attachment-id-v1";

void write_list_fields(wire::Writer& w, const ListRequest& l) {
    w.u8(l.after ? 1 : 0);
    if (l.after) w.raw(*l.after);
    w.u32(l.max_count).raw(l.requester).u64(l.timestamp_ms);
}

template <std::size_t N>
std::array<std::uint8_t, N> read_array(wire::Reader& r) {
    std::array<std::uint8_t, N> out{};
    auto v = r.raw(N);
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

}  // namespace

BlobId blob_id(const Digest& digest) {
    BlobId id{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, id.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kIdContext), sizeof(kIdContext) - 1);
    crypto_generichash_update(&st, digest.data(), digest.size());
    crypto_generichash_final(&st, id.data(), id.size());
    return id;
}

Digest blob_digest(ByteView blob) {
    Digest d{};
    crypto_generichash(d.data(), d.size(), blob.data(), blob.size(), nullptr, 0);
    return d;
}

std::uint32_t chunk_count(std::uint64_t total_bytes) {
    return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, (total_bytes + kChunkBytes - 1) / kChunkBytes));
}

std::size_t chunk_size(std::uint64_t total_bytes, std::uint32_t index) {
    std::uint64_t start = std::uint64_t{index} * kChunkBytes;
    if (start >= total_bytes) return 0;
    return static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, total_bytes - start));
}

std::uint64_t padded_bytes(std::uint64_t file_bytes) {
    std::uint64_t b = 541;
    while (b < file_bytes) b = b * 105 / 100;
    return b;
}

std::uint64_t sealed_bytes_of_padded(std::uint64_t padded) {
    constexpr std::uint64_t kStreamChunk = 64 * 1024;
    return 24 + padded + 17 * std::max<std::uint64_t>(1, (padded + kStreamChunk - 1) / kStreamChunk);
}

std::uint64_t max_stored_bytes(std::uint64_t max_file_bytes) {
    return sealed_bytes_of_padded(padded_bytes(max_file_bytes));
}

Bytes list_signed_bytes(const ListRequest& q) {
    wire::Writer w;
    w.raw(ByteView(reinterpret_cast<const std::uint8_t*>(kListDomain.data()), kListDomain.size()));
    write_list_fields(w, q);
    return w.take();
}

const char* to_string(Status s) {
    switch (s) {
        case Status::ok: return "ok";
        case Status::bad_request: return "bad_request";
        case Status::too_large: return "too_large";
        case Status::digest_mismatch: return "digest_mismatch";
        case Status::not_found: return "not_found";
        case Status::wrong_swarm: return "wrong_swarm";
        case Status::not_ready: return "not_ready";
        case Status::internal: return "internal";
    }
    return "unknown";
}

Bytes encode_request(const Request& r) {
    wire::Writer w;
    w.u8(kProtocolVersion);
    if (const auto* p = std::get_if<PutRequest>(&r)) {
        w.u8(static_cast<std::uint8_t>(Method::put)).raw(p->id).raw(p->digest).u64(p->total_bytes).u64(p->expiry_ms);
        w.u8(p->replica ? 1 : 0).u32(p->index).var(p->bytes);
    } else if (const auto* g = std::get_if<GetRequest>(&r)) {
        w.u8(static_cast<std::uint8_t>(Method::get)).raw(g->id).u32(g->index);
    } else {
        const auto& l = std::get<ListRequest>(r);
        w.u8(static_cast<std::uint8_t>(Method::list));
        write_list_fields(w, l);
        w.raw(l.signature);
    }
    return w.take();
}

Request decode_request(ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kProtocolVersion) throw wire::DecodeError("attachment store: unknown protocol version");
    auto method = r.u8();
    Request out;
    if (method == static_cast<std::uint8_t>(Method::put)) {
        PutRequest p;
        p.id = read_array<32>(r);
        p.digest = read_array<32>(r);
        p.total_bytes = r.u64();
        p.expiry_ms = r.u64();
        auto flag = r.u8();
        if (flag > 1) throw wire::DecodeError("attachment store: bad replica flag");
        p.replica = flag == 1;
        p.index = r.u32();
        auto v = r.var(kChunkBytes);
        p.bytes.assign(v.begin(), v.end());
        if (p.total_bytes == 0 || p.total_bytes > kMaxBlobBytes) throw wire::DecodeError("attachment store: bad blob size");
        if (p.index >= chunk_count(p.total_bytes) || p.bytes.size() != chunk_size(p.total_bytes, p.index))
            throw wire::DecodeError("attachment store: chunk index or size does not fit the blob");
        out = std::move(p);
    } else if (method == static_cast<std::uint8_t>(Method::get)) {
        GetRequest g;
        g.id = read_array<32>(r);
        g.index = r.u32();
        out = g;
    } else if (method == static_cast<std::uint8_t>(Method::list)) {
        ListRequest l;
        auto has = r.u8();
        if (has > 1) throw wire::DecodeError("attachment store: bad cursor flag");
        if (has == 1) l.after = read_array<32>(r);
        l.max_count = r.u32();
        if (l.max_count == 0 || l.max_count > kMaxListCount) throw wire::DecodeError("attachment store: bad list count");
        l.requester = read_array<32>(r);
        l.timestamp_ms = r.u64();
        l.signature = read_array<64>(r);
        out = l;
    } else {
        throw wire::DecodeError("attachment store: unknown method");
    }
    r.expect_done();
    return out;
}

Bytes encode_response(const Response& r) {
    wire::Writer w;
    w.u8(kProtocolVersion).u8(static_cast<std::uint8_t>(r.status));
    if (r.status != Status::ok) {
        w.str(r.message.substr(0, kMaxErrorBytes));
    } else if (const auto* p = std::get_if<PutResponse>(&r.body)) {
        w.u8(p->complete ? 1 : 0).u32(p->have_chunks).u32(p->total_chunks);
    } else if (const auto* g = std::get_if<GetResponse>(&r.body)) {
        w.u64(g->total_bytes).u64(g->expiry_ms).u32(g->index).var(g->bytes);
    } else if (const auto* l = std::get_if<ListResponse>(&r.body)) {
        w.u32(static_cast<std::uint32_t>(l->blobs.size()));
        for (const auto& b : l->blobs) w.raw(b.id).raw(b.digest).u64(b.total_bytes).u64(b.expiry_ms);
        w.u8(l->more ? 1 : 0);
    }
    return w.take();
}

Response decode_response(Method method, ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kProtocolVersion) throw wire::DecodeError("attachment store: unknown protocol version");
    auto status = r.u8();
    if (status < static_cast<std::uint8_t>(Status::ok) || status > static_cast<std::uint8_t>(Status::internal))
        throw wire::DecodeError("attachment store: unknown status");
    Response out;
    out.status = static_cast<Status>(status);
    if (out.status != Status::ok) {
        out.message = r.str(kMaxErrorBytes);
    } else if (method == Method::put) {
        PutResponse p;
        auto c = r.u8();
        if (c > 1) throw wire::DecodeError("attachment store: bad complete flag");
        p.complete = c == 1;
        p.have_chunks = r.u32();
        p.total_chunks = r.u32();
        out.body = p;
    } else if (method == Method::list) {
        ListResponse l;
        auto n = r.u32();
        if (n > kMaxListCount) throw wire::DecodeError("attachment store: list too long");
        for (std::uint32_t i = 0; i < n; ++i) {
            BlobEntry b;
            b.id = read_array<32>(r);
            b.digest = read_array<32>(r);
            b.total_bytes = r.u64();
            b.expiry_ms = r.u64();
            if (b.total_bytes == 0 || b.total_bytes > kMaxBlobBytes) throw wire::DecodeError("attachment store: bad blob size");
            l.blobs.push_back(b);
        }
        auto more = r.u8();
        if (more > 1) throw wire::DecodeError("attachment store: bad more flag");
        l.more = more == 1;
        out.body = std::move(l);
    } else {
        GetResponse g;
        g.total_bytes = r.u64();
        g.expiry_ms = r.u64();
        g.index = r.u32();
        auto v = r.var(kChunkBytes);
        g.bytes.assign(v.begin(), v.end());
        if (g.total_bytes == 0 || g.total_bytes > kMaxBlobBytes || g.index >= chunk_count(g.total_bytes) ||
            g.bytes.size() != chunk_size(g.total_bytes, g.index))
            throw wire::DecodeError("attachment store: chunk index or size does not fit the blob");
        out.body = std::move(g);
    }
    r.expect_done();
    return out;
}

Response error(Status s, std::string message) {
    Response r;
    r.status = s;
    r.message = std::move(message);
    return r;
}

}  // namespace veil::proto::blob
