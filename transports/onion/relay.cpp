#include "relay.hpp"

#include <sodium.h>

#include <chrono>

#include "veil/sdk/clock.hpp"

namespace veil::onion {

using sdk::ErrorCode;
using sdk::Result;
namespace transport = sdk::transport;

std::string hop_failure(std::size_t hop) { return "onion: hop " + std::to_string(hop) + " unreachable"; }

std::size_t parse_hop_failure(std::string_view text) {
    constexpr std::string_view kPrefix = "onion: hop ";
    auto at = text.find(kPrefix);
    if (at == std::string_view::npos) return 0;
    std::size_t n = 0, i = at + kPrefix.size();
    for (; i < text.size() && i < at + kPrefix.size() + 3 && text[i] >= '0' && text[i] <= '9'; ++i) {
        n = n * 10 + static_cast<std::size_t>(text[i] - '0');
    }
    return text.substr(i).starts_with(" unreachable") ? n : 0;
}

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
        ++stats_.refused;
        done(sdk::Error{ErrorCode::bad_input, e.what()});
        return;
    }
    if (observer_) observer_({layer.kind, layer.next_address, layer.service});
    if (layer.kind == LayerKind::forward) return forward(std::move(layer), counted(link, source, false, std::move(done)));
    bool long_poll = long_poll_ && long_poll_(layer.service, layer.body);
    if (long_poll && (long_polls_ >= options_.max_long_polls || load.long_polls >= options_.max_long_polls_per_link ||
                      from_source.long_polls >= options_.max_long_polls_per_source)) {
        sodium_memzero(layer.response_key.data(), layer.response_key.size());
        return busy();
    }
    deliver(std::move(layer), link, source, counted(link, source, long_poll, std::move(done)));
}

void Relay::forward(OpenedLayer layer, Done done) {
    ++stats_.forwarded;
    auto client = next_hops_.get(layer.next_address);
    if (!client) {
        ++stats_.failed;
        done(sdk::Error{ErrorCode::bad_input, "onion: bad layer"});
        return;
    }
    client.value()->request(transport::encode_service_request(kOnionService, layer.inner), options_.hop_timeout_ms,
                    [this, alive = alive_, done = std::move(done)](Result<wire::Bytes> r) {
                        // `beyond`: how far past our next hop the break is (0: the next hop itself).
                        auto fail = [&](std::size_t beyond) {
                            if (*alive) ++stats_.failed;
                            done(sdk::Error{ErrorCode::unreachable, hop_failure(beyond + 1)});
                        };
                        if (!r) return fail(0);
                        auto response = transport::decode_service_response(r.value(), options_.max_blob_bytes);
                        if (!response) return fail(0);
                        if (response.value().status != transport::Status::ok) {
                            const auto& body = response.value().body;
                            return fail(parse_hop_failure(std::string_view(
                                reinterpret_cast<const char*>(body.data()), body.size())));
                        }
                        // The destination's sealed answer, passed back unchanged.
                        done(std::move(response.value().body));
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
            done(seal_response(key, transport::encode_service_response(response)));
            sodium_memzero(key.data(), key.size());
        },
        service);
    if (!queued) {
        ++stats_.failed;
        done(sdk::Error{ErrorCode::queue_full, "onion: busy"});
    }
    sodium_memzero(layer.response_key.data(), layer.response_key.size());
}

}  // namespace veil::onion
