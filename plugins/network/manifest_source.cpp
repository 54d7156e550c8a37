#include "manifest_source.hpp"


#include <algorithm>

#include "veil/crypto/random.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

namespace tr = sdk::transport;

wire::Bytes manifest_request_body(std::uint32_t id) {
    return proto::node::encode_request({id, proto::node::GetManifestRequest{}});
}

wire::Bytes encode_manifest_request(std::uint32_t id) {
    return tr::encode_service_request("storage", manifest_request_body(id));
}

wire::Bytes manifest_from_response(const tr::Response& answer) {
    if (answer.status != tr::Status::ok) throw wire::DecodeError("not a storage answer");
    auto response = proto::node::decode_response(proto::node::Method::get_manifest, answer.body);
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
    auto check = verifier_.accept(signed_manifest);
    if (check != proto::ManifestCheck::ok) return std::string(proto::to_string(check));
    envelope_.assign(envelope.begin(), envelope.end());
    manifest_ = signed_manifest.manifest;
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

void ManifestSource::refresh(std::function<void(bool)> done) {
    if (manifest_ && send_) {
        // After the first bootstrap the manifest is fetched like anything else: through the onion.
        std::vector<proto::NodeEntry> nodes = manifest_->nodes;
        crypto::shuffle(nodes);
        if (nodes.size() > options_.attempts) nodes.resize(options_.attempts);
        return ask_through(std::move(nodes), std::move(done));
    }
    ask(candidates(), std::move(done));
}

bool ManifestSource::take_answer(const tr::Response& answer) {
    try {
        auto refused = offer(manifest_from_response(answer));
        return !refused || *refused == "already current";
    } catch (const wire::DecodeError&) {
        return false;
    }
}

void ManifestSource::ask_through(std::vector<proto::NodeEntry> nodes, std::function<void(bool)> done) {
    if (nodes.empty()) {
        if (done) done(false);
        return;
    }
    proto::NodeEntry node = nodes.back();
    nodes.pop_back();
    tr::Request request;
    request.to = {wire::to_hex(node.ed25519), proto::address_of(node)};
    request.service = "storage";
    request.body = manifest_request_body(next_id_++);
    request.timeout_ms = options_.request_timeout_ms;
    request.public_content = true;
    ++stats_.through_transport;
    send_(std::move(request), [this, alive = alive_, rest = std::move(nodes), done](sdk::Result<tr::Response> r) mutable {
        if (!*alive) return;
        if (r && take_answer(r.value())) {
            if (done) done(true);
            return;
        }
        ask_through(std::move(rest), std::move(done));
    });
}

void ManifestSource::ask(std::vector<std::string> addresses, std::function<void(bool)> done) {
    if (addresses.empty()) {
        if (done) done(false);
        return;
    }
    std::string address = addresses.back();
    addresses.pop_back();
    auto client = clients_.get(address);
    if (!client) return ask(std::move(addresses), std::move(done));
    ++stats_.direct;
    client.value()->request(encode_manifest_request(next_id_++), options_.request_timeout_ms,
                    [this, alive = alive_, rest = std::move(addresses), done](sdk::Result<wire::Bytes> r) mutable {
                        if (!*alive) return;
                        if (r) {
                            auto answer = tr::decode_service_response(r.value(), proto::kMaxManifestBodyBytes * 2);
                            if (answer && take_answer(answer.value())) {
                                if (done) done(true);
                                return;
                            }
                        }
                        ask(std::move(rest), std::move(done));
                    });
}

}  // namespace veil::network
