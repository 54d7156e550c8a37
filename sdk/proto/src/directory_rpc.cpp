#include "veil/proto/directory_rpc.hpp"

#include "veil/proto/manifest.hpp"
#include "veil/proto/vote.hpp"

namespace veil::proto {

namespace {
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxDescriptorBytes = 1024;
constexpr std::size_t kMaxMessageBytes = 512;
constexpr std::size_t kSignatureBytes = 8 + 32 + 64;
}  // namespace

wire::Bytes encode_directory_request(const DirectoryRequest& r) {
    wire::Writer w;
    w.u8(kVersion).u8(static_cast<std::uint8_t>(r.kind));
    if (r.kind == DirectoryKind::register_node) w.var(r.descriptor);
    else if (r.kind == DirectoryKind::get_manifest && r.held_version != 0) w.u64(r.held_version);
    else if (r.kind == DirectoryKind::post_vote) w.var(r.body);
    else if (r.kind == DirectoryKind::post_signature || r.kind == DirectoryKind::offer_vote) w.raw(r.body);
    return w.take();
}

DirectoryRequest decode_directory_request(wire::ByteView b) {
    wire::Reader r(b);
    if (r.u8() != kVersion) throw wire::DecodeError("directory: unsupported version");
    DirectoryRequest q;
    std::uint8_t kind = r.u8();
    if (kind == static_cast<std::uint8_t>(DirectoryKind::register_node)) {
        q.kind = DirectoryKind::register_node;
        auto d = r.var(kMaxDescriptorBytes);
        q.descriptor.assign(d.begin(), d.end());
    } else if (kind == static_cast<std::uint8_t>(DirectoryKind::get_manifest)) {
        q.kind = DirectoryKind::get_manifest;
        if (!r.done() && (q.held_version = r.u64()) == 0) throw wire::DecodeError("directory: no version held is sent as nothing");
    } else if (kind == static_cast<std::uint8_t>(DirectoryKind::post_vote)) {
        q.kind = DirectoryKind::post_vote;
        auto v = r.var(kMaxManifestBodyBytes + 4096);
        q.body.assign(v.begin(), v.end());
    } else if (kind == static_cast<std::uint8_t>(DirectoryKind::post_signature)) {
        q.kind = DirectoryKind::post_signature;
        auto s = r.raw(kSignatureBytes);
        q.body.assign(s.begin(), s.end());
    } else if (kind == static_cast<std::uint8_t>(DirectoryKind::offer_vote)) {
        q.kind = DirectoryKind::offer_vote;
        auto d = r.raw(32);
        q.body.assign(d.begin(), d.end());
    } else {
        throw wire::DecodeError("directory: unknown request kind");
    }
    r.expect_done();
    return q;
}

wire::Bytes encode_directory_response(DirectoryKind kind, const DirectoryResponse& r) {
    wire::Writer w;
    w.u8(static_cast<std::uint8_t>(r.status));
    if (r.status != DirectoryStatus::ok) w.str(r.message.substr(0, kMaxMessageBytes));
    else if (kind == DirectoryKind::get_manifest) w.var(r.manifest);
    return w.take();
}

DirectoryResponse decode_directory_response(DirectoryKind kind, wire::ByteView b) {
    wire::Reader r(b);
    DirectoryResponse out;
    std::uint8_t status = r.u8();
    if (status < 1 || status > static_cast<std::uint8_t>(DirectoryStatus::current))
        throw wire::DecodeError("directory: unknown status");
    out.status = static_cast<DirectoryStatus>(status);
    if (out.status != DirectoryStatus::ok) {
        out.message = r.str(kMaxMessageBytes);
    } else if (kind == DirectoryKind::get_manifest) {
        auto m = r.var(kMaxManifestBodyBytes + 4096);
        out.manifest.assign(m.begin(), m.end());
    }
    r.expect_done();
    return out;
}

}  // namespace veil::proto
