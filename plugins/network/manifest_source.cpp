#include "manifest_source.hpp"


#include <algorithm>

#include "veil/crypto/random.hpp"
#include "veil/proto/manifest_diff.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

namespace tr = sdk::transport;

wire::Bytes manifest_request_body(std::uint32_t id, std::optional<std::uint64_t> held) {
    return proto::node::encode_request({id, proto::node::GetManifestRequest{held}});
}

wire::Bytes encode_manifest_request(std::uint32_t id, std::optional<std::uint64_t> held) {
    return tr::encode_service_request("storage", manifest_request_body(id, held));
}

proto::node::ManifestResponse decode_manifest_answer(wire::ByteView framed) {
    auto outer = tr::decode_service_response(framed, proto::kMaxManifestBodyBytes * 2);
    if (!outer) throw wire::DecodeError("not a storage answer");
    return manifest_answer(outer.value());
}

proto::node::ManifestResponse manifest_answer(const tr::Response& answer) {
    if (answer.status != tr::Status::ok) throw wire::DecodeError("not a storage answer");
    auto response = proto::node::decode_response(proto::node::Method::get_manifest, answer.body);
    if (response.status != proto::node::Status::ok) {
        throw wire::DecodeError(std::string("node answered ") + proto::node::to_string(response.status));
    }
    return std::get<proto::node::ManifestResponse>(response.body);
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
    held_ = signed_manifest;
    signatures_ = verifier_.valid_signatures(signed_manifest);
    if (on_accepted_) on_accepted_(signed_manifest, envelope_);
    return std::nullopt;
}

std::optional<std::string> ManifestSource::take(const proto::node::ManifestResponse& answer) {
    using proto::node::ManifestAnswer;
    if (answer.kind == ManifestAnswer::full) {
        auto refused = offer(answer.envelope);
        if (refused && *refused == "already current") return std::nullopt;
        return refused;
    }
    if (!held_) return std::string("a diff or \"current\" answer to a client that holds no manifest");
    if (answer.kind == ManifestAnswer::current) return std::nullopt;
    proto::SignedManifest next;
    try {
        next = proto::apply_manifest_diff(*held_, proto::decode_manifest_diff(answer.diff));
    } catch (const wire::DecodeError& e) {
        return std::string("manifest diff refused: ") + e.what();
    }
    // The rebuilt manifest is checked exactly as a whole one: signatures over the new body.
    auto refused = offer(next.encode());
    if (refused && *refused == "already current") return std::string("manifest diff to the held version");
    return refused;
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

ManifestSource::Next ManifestSource::settle(const std::function<proto::node::ManifestResponse()>& decode, bool whole) {
    try {
        auto taken = decode();
        auto held = version();
        if (!take(taken)) return version() != held ? Next::done : Next::current;
        // A diff that did not verify: the whole manifest, from the same node.
        if (taken.kind != proto::node::ManifestAnswer::full && !whole) return Next::whole_from_same;
    } catch (const wire::DecodeError&) {
    }
    return Next::next_node;
}

std::optional<std::uint64_t> ManifestSource::held_version(bool whole) const {
    if (whole || !held_) return std::nullopt;
    return version();
}

void ManifestSource::ask_through(std::vector<proto::NodeEntry> nodes, std::function<void(bool)> done, bool whole,
                                 bool answered) {
    if (nodes.empty()) {
        if (done) done(answered);
        return;
    }
    const proto::NodeEntry& node = nodes.back();
    tr::Request request;
    request.to = {wire::to_hex(node.ed25519), proto::address_of(node)};
    request.service = "storage";
    request.body = manifest_request_body(next_id_++, held_version(whole));
    request.timeout_ms = options_.request_timeout_ms;
    request.public_content = true;
    ++stats_.through_transport;
    send_(std::move(request), [this, alive = alive_, rest = std::move(nodes), done, whole, answered](sdk::Result<tr::Response> r) mutable {
        if (!*alive) return;
        auto next = r ? settle([&] { return manifest_answer(r.value()); }, whole) : Next::next_node;
        if (next == Next::done) {
            if (done) done(true);
            return;
        }
        if (next == Next::whole_from_same) return ask_through(std::move(rest), std::move(done), true, answered);
        rest.pop_back();
        ask_through(std::move(rest), std::move(done), false, answered || next == Next::current);
    });
}

void ManifestSource::ask(std::vector<std::string> addresses, std::function<void(bool)> done, bool whole, bool answered) {
    if (addresses.empty()) {
        if (done) done(answered);
        return;
    }
    std::string address = addresses.back();
    auto client = clients_.get(address);
    if (!client) {
        addresses.pop_back();
        return ask(std::move(addresses), std::move(done), false, answered);
    }
    ++stats_.direct;
    client.value()->request(encode_manifest_request(next_id_++, held_version(whole)), options_.request_timeout_ms,
                    [this, alive = alive_, rest = std::move(addresses), done, whole, answered](sdk::Result<wire::Bytes> r) mutable {
                        if (!*alive) return;
                        auto next = r ? settle([&] { return decode_manifest_answer(r.value()); }, whole) : Next::next_node;
                        if (next == Next::done) {
                            if (done) done(true);
                            return;
                        }
                        if (next == Next::whole_from_same) return ask(std::move(rest), std::move(done), true, answered);
                        rest.pop_back();
                        ask(std::move(rest), std::move(done), false, answered || next == Next::current);
                    });
}

}  // namespace veil::network
