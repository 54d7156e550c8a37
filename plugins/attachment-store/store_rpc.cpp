#include "store_rpc.hpp"

#include <sodium.h>

#include <algorithm>

namespace veil::attachment_store {

namespace {

constexpr char kIdContext[] = "veil-attachment-id-v1";

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
    } else {
        const auto& g = std::get<GetRequest>(r);
        w.u8(static_cast<std::uint8_t>(Method::get)).raw(g.id).u32(g.index);
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

}  // namespace veil::attachment_store
