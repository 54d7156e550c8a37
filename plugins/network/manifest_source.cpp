#include "manifest_source.hpp"


#include <algorithm>

#include "veil/crypto/random.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

namespace tr = sdk::transport;

wire::Bytes encode_manifest_request(std::uint32_t id) {
    return tr::encode_service_request("storage", proto::node::encode_request({id, proto::node::GetManifestRequest{}}));
}

wire::Bytes decode_manifest_answer(wire::ByteView framed) {
    auto outer = tr::decode_service_response(framed, proto::kMaxManifestBodyBytes * 2);
    if (!outer || outer.value().status != tr::Status::ok) throw wire::DecodeError("not a storage answer");
    auto response = proto::node::decode_response(proto::node::Method::get_manifest, outer.value().body);
    if (response.status != proto::node::Status::ok) {
        throw wire::DecodeError(std::string("node answered ") + proto::node::to_string(response.status));
    }
    return std::get<proto::node::ManifestResponse>(response.body).envelope;
}

ManifestSource::ManifestSource(uv_loop_t* loop, ManifestSourceOptions options, Accepted on_accepted)
    : options_(std::move(options)),
      on_accepted_(std::move(on_accepted)),
      verifier_(options_.authorities, options_.threshold),
      clients_(loop, [] {
          sdk::net::ClientOptions o;
          o.max_frame_bytes = proto::kMaxManifestBodyBytes * 2;
          return o;
      }()) {}

ManifestSource::~ManifestSource() { *alive_ = false; }

std::optional<std::string> ManifestSource::offer(wire::ByteView envelope) {
    proto::SignedManifest signed_manifest;
    try {
        signed_manifest = proto::decode_signed_manifest(envelope);
    } catch (const wire::DecodeError& e) {
        return std::string("malformed manifest: ") + e.what();
    }
    if (signed_manifest.manifest.version == verifier_.accepted_version()) return std::string("already current");
    auto check = verifier_.accept(signed_manifest, sdk::now_ms());
    if (check != proto::ManifestCheck::ok) return std::string(proto::to_string(check));
    envelope_.assign(envelope.begin(), envelope.end());
    manifest_ = signed_manifest.manifest;
    signatures_ = verifier_.valid_signatures(signed_manifest);
    if (on_accepted_) on_accepted_(signed_manifest, envelope_);
    return std::nullopt;
}

std::vector<std::string> ManifestSource::candidates() const {
    std::vector<std::string> out = options_.seeds;
    if (manifest_) {
        for (const auto& n : manifest_->nodes) out.push_back(proto::address_of(n));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    crypto::shuffle(out);
    if (out.size() > options_.attempts) out.resize(options_.attempts);
    return out;
}

void ManifestSource::refresh(std::function<void(bool)> done) { ask(candidates(), std::move(done)); }

void ManifestSource::ask(std::vector<std::string> addresses, std::function<void(bool)> done) {
    if (addresses.empty()) {
        if (done) done(false);
        return;
    }
    std::string address = addresses.back();
    addresses.pop_back();
    auto client = clients_.get(address);
    if (!client) return ask(std::move(addresses), std::move(done));
    client.value()->request(encode_manifest_request(next_id_++), options_.request_timeout_ms,
                    [this, alive = alive_, rest = std::move(addresses), done](sdk::Result<wire::Bytes> r) mutable {
                        if (!*alive) return;
                        if (r) {
                            try {
                                auto refused = offer(decode_manifest_answer(r.value()));
                                if (!refused || *refused == "already current") {
                                    if (done) done(true);
                                    return;
                                }
                            } catch (const wire::DecodeError&) {
                            }
                        }
                        ask(std::move(rest), std::move(done));
                    });
}

}  // namespace veil::network
