#include "relay.hpp"

#include <sodium.h>

#include <chrono>

#include "veil/sdk/clock.hpp"

namespace veil::onion {

using sdk::ErrorCode;
using sdk::Result;
namespace transport = sdk::transport;

std::uint64_t monotonic_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

std::uint64_t wall_clock_ms() { return sdk::now_ms(); }

Relay::Relay(uv_loop_t* loop, sdk::Bus& bus, std::shared_ptr<const crypto::KeyAgreement> node_key, NodeLookup lookup,
             RelayOptions options)
    : bus_(bus),
      node_key_(std::move(node_key)),
      lookup_(std::move(lookup)),
      options_(options),
      replays_(options.replay_window_ms, options.max_replay_entries),
      next_hops_(loop, [&] {
          sdk::net::ClientOptions o;
          o.max_frame_bytes = options.max_blob_bytes + 64;
          return o;
      }()) {}

Relay::~Relay() { *alive_ = false; }

namespace {

template <class K>
void take(std::map<K, Relay::Load>& loads, const K& key, bool long_poll) {
    auto& load = loads[key];
    ++(long_poll ? load.long_polls : load.requests);
}

template <class K>
void give_back(std::map<K, Relay::Load>& loads, const K& key, bool long_poll) {
    auto it = loads.find(key);
    if (it == loads.end()) return;
    --(long_poll ? it->second.long_polls : it->second.requests);
    if (it->second.requests == 0 && it->second.long_polls == 0) loads.erase(it);
}

template <class K>
Relay::Load load_of(const std::map<K, Relay::Load>& loads, const K& key) {
    auto it = loads.find(key);
    return it == loads.end() ? Relay::Load{} : it->second;
}

}  // namespace

// Holds one slot of `link` and of `source` (a request, or a long-poll) until `done` runs.
Relay::Done Relay::counted(std::uint64_t link, const std::string& source, bool long_poll, Done done) {
    take(links_, link, long_poll);
    if (!source.empty()) take(sources_, source, long_poll);
    ++(long_poll ? long_polls_ : in_flight_);
    return [this, alive = alive_, link, source, long_poll, done = std::move(done)](Result<wire::Bytes> r) {
        if (*alive) release(link, source, long_poll);
        done(std::move(r));
    };
}

void Relay::release(std::uint64_t link, const std::string& source, bool long_poll) {
    give_back(links_, link, long_poll);
    if (!source.empty()) give_back(sources_, source, long_poll);
    --(long_poll ? long_polls_ : in_flight_);
}

void Relay::handle(wire::ByteView blob, std::uint64_t link, const std::string& source, Done done) {
    auto busy = [&] {
        ++stats_.refused;
        ++stats_.busy;
        done(sdk::Error{ErrorCode::refused, "onion: busy"});
    };
    // Budgets first: refusing costs no X25519.
    Load load = load_of(links_, link);
    Load from_source = source.empty() ? Load{} : load_of(sources_, source);
    if (in_flight_ >= options_.max_in_flight || load.requests >= options_.max_in_flight_per_link ||
        from_source.requests >= options_.max_in_flight_per_source)
        return busy();
    if (frames_) frames_(blob);
    OpenedLayer layer;
    try {
        if (blob.size() > options_.max_blob_bytes) throw LayerError();
        layer = open_layer(blob, *node_key_);
        if (replays_.admit(layer.ephemeral_key, layer.created_ms, wall_clock_ms()) != sdk::ReplayWindow::Verdict::admitted)
            throw LayerError();
        if (layer.kind == LayerKind::forward && !lookup_(layer.next_node_id, layer.next_address)) {
            throw LayerError();
        }
        // A path ends here: a deliver layer may not start another onion path (no nesting).
        if (layer.kind == LayerKind::deliver && layer.service == kOnionService) throw LayerError();
    } catch (const LayerError& e) {
        wipe_keys(layer);
        ++stats_.refused;
        done(sdk::Error{ErrorCode::bad_input, e.what()});
        return;
    }
    if (observer_) observer_({layer.kind, layer.next_address, layer.service, layer.created_ms});
    if (layer.kind == LayerKind::forward) return forward(std::move(layer), counted(link, source, false, std::move(done)));
    bool long_poll = long_poll_ && long_poll_(layer.service, layer.body);
    if (long_poll && (long_polls_ >= options_.max_long_polls || load.long_polls >= options_.max_long_polls_per_link ||
                      from_source.long_polls >= options_.max_long_polls_per_source)) {
        wipe_keys(layer);
        return busy();
    }
    deliver(std::move(layer), link, source, counted(link, source, long_poll, std::move(done)));
}

// The secrets a forwarded layer leaves for the way back, wiped when the answer has gone.
struct Relay::ReturnSecrets {
    Key32 response_key{};
    Key32 return_key{};
    ~ReturnSecrets() {
        sodium_memzero(response_key.data(), response_key.size());
        sodium_memzero(return_key.data(), return_key.size());
    }
};

void Relay::forward(OpenedLayer layer, Done done) {
    ++stats_.forwarded;
    auto secrets = std::make_shared<ReturnSecrets>();
    secrets->response_key = layer.response_key;
    secrets->return_key = layer.return_key;
    wipe_keys(layer);
    auto client = next_hops_.get(layer.next_address);
    if (!client) {
        ++stats_.failed;
        done(seal_failure(secrets->response_key, HopFailure::next_hop_unreachable));
        return;
    }
    if (frames_) frames_(layer.inner);
    client.value()->request(transport::encode_service_request(kOnionService, layer.inner), options_.hop_timeout_ms,
                    [this, alive = alive_, secrets, done = std::move(done)](Result<wire::Bytes> r) {
                        // Only this relay can prove that its next hop failed: it says so under
                        // its own key, and the relays before it pass that on like any answer.
                        auto fail = [&](HopFailure failure) {
                            if (*alive) ++stats_.failed;
                            done(seal_failure(secrets->response_key, failure));
                        };
                        if (!r) {
                            return fail(r.error().code == ErrorCode::timeout ? HopFailure::next_hop_timeout
                                                                             : HopFailure::next_hop_unreachable);
                        }
                        auto response = transport::decode_service_response(r.value(), options_.max_blob_bytes);
                        if (!response) return fail(HopFailure::next_hop_unreachable);
                        if (response.value().status != transport::Status::ok) return fail(HopFailure::next_hop_refused);
                        // An answer off the size buckets could carry a tag for a hop before this one.
                        if (!is_bucket_size(response.value().body.size())) return fail(HopFailure::next_hop_unreachable);
                        // The answer (or a later hop's failure), re-encrypted so that it leaves
                        // here as bytes no other link carries.
                        auto& answer = response.value().body;
                        if (*alive && frames_) frames_(answer);
                        add_return_layer(secrets->return_key, answer);
                        if (*alive && frames_) frames_(answer);
                        done(std::move(answer));
                    });
}

void Relay::deliver(OpenedLayer layer, std::uint64_t link, const std::string& source, Done done) {
    ++stats_.delivered;
    auto key = layer.response_key;
    transport::Inbound inbound{layer.service, std::move(layer.body), link, source};
    std::string service = inbound.service;
    bool queued = bus_.request<transport::Inbound>(
        std::move(inbound), options_.hop_timeout_ms,
        [this, alive = alive_, key, done](Result<transport::Response> r) mutable {
            transport::Response response;
            if (r) {
                response = std::move(r.value());
            } else if (r.error().code == ErrorCode::no_handler) {
                response = {transport::Status::unknown_service, {}};
            } else {
                if (*alive) ++stats_.failed;
                std::string message = r.error().describe();
                response = {transport::Status::error, wire::Bytes(message.begin(), message.end())};
            }
            auto sealed = seal_response(key, transport::encode_service_response(response));
            sodium_memzero(key.data(), key.size());
            if (*alive && frames_) frames_(sealed);
            done(std::move(sealed));
        },
        service);
    if (!queued) {
        ++stats_.failed;
        done(sdk::Error{ErrorCode::queue_full, "onion: busy"});
    }
    wipe_keys(layer);
}

void Relay::wipe_keys(OpenedLayer& layer) {
    sodium_memzero(layer.response_key.data(), layer.response_key.size());
    sodium_memzero(layer.return_key.data(), layer.return_key.size());
}

}  // namespace veil::onion
