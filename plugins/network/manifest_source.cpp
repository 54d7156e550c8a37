#include "manifest_source.hpp"

#include <sodium.h>

#include <algorithm>

#include "service-node/rpc.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

namespace tr = sdk::transport;

wire::Bytes encode_manifest_request(std::uint32_t id) {
    return tr::encode_service_request("storage", node::encode_request({id, node::GetManifestRequest{}}));
}

wire::Bytes decode_manifest_answer(wire::ByteView framed) {
    auto outer = tr::decode_service_response(framed, directory::kMaxManifestBodyBytes * 2);
    if (!outer || outer.value().status != tr::Status::ok) throw wire::DecodeError("not a storage answer");
    auto response = node::decode_response(node::Method::get_manifest, outer.value().body);
    if (response.status != node::Status::ok) {
        throw wire::DecodeError(std::string("node answered ") + node::to_string(response.status));
    }
    return std::get<node::ManifestResponse>(response.body).envelope;
}

ManifestSource::ManifestSource(uv_loop_t* loop, ManifestSourceOptions options, Accepted on_accepted)
    : loop_(loop),
      options_(std::move(options)),
      on_accepted_(std::move(on_accepted)),
      verifier_(options_.authorities, options_.threshold) {}

ManifestSource::~ManifestSource() { *alive_ = false; }

std::optional<std::string> ManifestSource::offer(wire::ByteView envelope) {
    directory::SignedManifest signed_manifest;
    try {
        signed_manifest = directory::decode_signed_manifest(envelope);
    } catch (const wire::DecodeError& e) {
        return std::string("malformed manifest: ") + e.what();
    }
    if (signed_manifest.manifest.version == verifier_.accepted_version()) return std::string("already current");
    auto check = verifier_.accept(signed_manifest);
    if (check != directory::ManifestCheck::ok) return std::string(directory::to_string(check));
    envelope_.assign(envelope.begin(), envelope.end());
    manifest_ = signed_manifest.manifest;
    if (on_accepted_) on_accepted_(signed_manifest, envelope_);
    return std::nullopt;
}

std::vector<std::string> ManifestSource::candidates() const {
    std::vector<std::string> out = options_.seeds;
    if (manifest_) {
        for (const auto& n : manifest_->nodes) out.push_back(n.host + ":" + std::to_string(n.port));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    // Fisher-Yates with libsodium's uniform generator.
    for (std::size_t i = out.size(); i > 1; --i) {
        std::swap(out[i - 1], out[randombytes_uniform(static_cast<std::uint32_t>(i))]);
    }
    if (out.size() > options_.attempts) out.resize(options_.attempts);
    return out;
}

sdk::net::Client& ManifestSource::client_for(const std::string& address) {
    auto it = clients_.find(address);
    if (it == clients_.end()) {
        auto ep = sdk::net::parse_endpoint(address);
        if (!ep) throw std::invalid_argument("network: bad node address " + address);
        sdk::net::ClientOptions o;
        o.max_frame_bytes = directory::kMaxManifestBodyBytes * 2;
        it = clients_.emplace(address, std::make_unique<sdk::net::Client>(loop_, ep.value(), o)).first;
    }
    return *it->second;
}

void ManifestSource::refresh(std::function<void(bool)> done) { ask(candidates(), std::move(done)); }

void ManifestSource::ask(std::vector<std::string> addresses, std::function<void(bool)> done) {
    if (addresses.empty()) {
        if (done) done(false);
        return;
    }
    std::string address = addresses.back();
    addresses.pop_back();
    sdk::net::Client* client = nullptr;
    try {
        client = &client_for(address);
    } catch (const std::invalid_argument&) {
        return ask(std::move(addresses), std::move(done));
    }
    client->request(encode_manifest_request(next_id_++), options_.request_timeout_ms,
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
