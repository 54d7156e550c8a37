#include "admission.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>
#include <utility>

#include "veil/proto/admission.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::directory {

namespace {

// A numeric host as 4 (IPv4, also from ::ffff:a.b.c.d) or 16 bytes; empty when it is a name.
std::vector<std::uint8_t> numeric_bytes(const std::string& host) {
    std::array<std::uint8_t, 4> v4{};
    std::array<std::uint8_t, 16> v6{};
    if (::inet_pton(AF_INET, host.c_str(), v4.data()) == 1) return {v4.begin(), v4.end()};
    if (::inet_pton(AF_INET6, host.c_str(), v6.data()) != 1) return {};
    static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::equal(kMapped.begin(), kMapped.end(), v6.begin())) return {v6.begin() + 12, v6.end()};
    return {v6.begin(), v6.end()};
}

// The IPv4 address a 6to4 (2002:AABB:CCDD::/48) or Teredo (2001:0::/32, the client's address
// inverted in the last 32 bits) address carries: one IPv4 address yields 2^80 of them, so they
// count in its block, not in a /48 each, and are as global as it is. Other addresses unchanged.
std::vector<std::uint8_t> embedded_v4(std::vector<std::uint8_t> bytes) {
    if (bytes.size() != 16) return bytes;
    if (bytes[0] == 0x20 && bytes[1] == 0x02) return {bytes.begin() + 2, bytes.begin() + 6};
    if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0)
        return {static_cast<std::uint8_t>(~bytes[12]), static_cast<std::uint8_t>(~bytes[13]),
                static_cast<std::uint8_t>(~bytes[14]), static_cast<std::uint8_t>(~bytes[15])};
    return bytes;
}

AddressKind classify_v4(const std::array<std::uint8_t, 4>& a) {
    auto in = [&a](std::uint8_t b0, int bits, std::uint8_t b1 = 0) {
        // a in b0.b1.0.0/bits, for bits 8..16
        if (a[0] != b0) return false;
        if (bits <= 8) return true;
        std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (16 - bits));
        return (a[1] & mask) == b1;
    };
    if (a == std::array<std::uint8_t, 4>{0, 0, 0, 0}) return AddressKind::unspecified;
    if (in(127, 8)) return AddressKind::loopback;
    if (in(10, 8) || in(172, 12, 16) || in(192, 16, 168) || in(100, 10, 64)) return AddressKind::private_range;
    if (in(169, 16, 254)) return AddressKind::link_local;
    if (a[0] >= 224 && a[0] < 240) return AddressKind::multicast;
    if (a[0] == 0 || a[0] >= 240) return AddressKind::reserved;  // this network, class E, broadcast
    // IETF protocol assignments, TEST-NET-1/2/3, benchmarking, 6to4 relay anycast.
    if ((a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2)) || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
        (a[0] == 203 && a[1] == 0 && a[2] == 113) || in(198, 15, 18) || (a[0] == 192 && a[1] == 88 && a[2] == 99))
        return AddressKind::reserved;
    return AddressKind::global;
}

AddressKind classify_v6(const std::array<std::uint8_t, 16>& a) {
    static constexpr std::array<std::uint8_t, 16> kZero{};
    auto loopback = kZero;
    loopback[15] = 1;
    if (a == kZero) return AddressKind::unspecified;
    if (a == loopback) return AddressKind::loopback;
    if (a[0] == 0xFF) return AddressKind::multicast;
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return AddressKind::link_local;
    if ((a[0] & 0xFE) == 0xFC) return AddressKind::private_range;
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return AddressKind::private_range;  // site-local (deprecated)
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8) return AddressKind::reserved;  // documentation
    if ((a[0] & 0xE0) != 0x20) return AddressKind::reserved;  // outside 2000::/3, the global unicast space
    return AddressKind::global;
}

}  // namespace

const char* to_string(AddressKind k) {
    switch (k) {
        case AddressKind::global: return "global";
        case AddressKind::not_numeric: return "a host name (register a numeric address)";
        case AddressKind::loopback: return "a loopback address";
        case AddressKind::private_range: return "a private address";
        case AddressKind::link_local: return "a link-local address";
        case AddressKind::multicast: return "a multicast address";
        case AddressKind::unspecified: return "the unspecified address";
        case AddressKind::reserved: return "a reserved address";
    }
    return "unknown";
}

AddressKind classify_address(const std::string& host) {
    auto bytes = numeric_bytes(host);  // ::ffff:a.b.c.d: the IPv4 address decides
    bytes = embedded_v4(std::move(bytes));  // 6to4/Teredo: the IPv4 address they carry decides
    if (bytes.size() == 4) {
        std::array<std::uint8_t, 4> v4{};
        std::copy(bytes.begin(), bytes.end(), v4.begin());
        return classify_v4(v4);
    }
    if (bytes.size() == 16) {
        std::array<std::uint8_t, 16> v6{};
        std::copy(bytes.begin(), bytes.end(), v6.begin());
        return classify_v6(v6);
    }
    return AddressKind::not_numeric;
}

bool admissible(AddressKind k, bool test_network) {
    if (k == AddressKind::global) return true;
    return test_network && k != AddressKind::not_numeric;
}

namespace {

// The first `bits` bits of a numeric host (IPv4: v4_bits, IPv6: v6_bits) as "prefix/bits".
std::string prefix_of(const std::string& host, std::size_t v4_bits, std::size_t v6_bits) {
    auto bytes = embedded_v4(numeric_bytes(host));
    if (bytes.empty()) return host;
    bool v4 = bytes.size() == 4;
    std::size_t bits = v4 ? v4_bits : v6_bits;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(bits / 8), bytes.end(), 0);
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
    return std::string(text) + "/" + std::to_string(bits);
}

}  // namespace

std::string address_block(const std::string& host) { return prefix_of(host, 24, 48); }

// The format of net_server.cpp's origin_of: what one host holds (its IPv4 address, its IPv6 /64).
std::string source_key(const std::string& host) {
    auto bytes = numeric_bytes(host);
    if (bytes.size() == 16) bytes.resize(8);
    return {bytes.begin(), bytes.end()};
}

bool registered_from(const std::string& host, std::string_view source, bool test_network) {
    auto expected = source_key(host);
    if (!expected.empty() && source == expected) return true;
    // A testnet's processes reach each other through loopback forwarders (veil-link).
    static const std::string kLoopback4 = source_key("127.0.0.1");
    return test_network && source.size() == 4 && source.front() == kLoopback4.front();
}

std::string address_owner(const std::string& host) { return prefix_of(host, 32, 64); }

Admission::Admission(AdmissionConfig config, Probe probe, Admitted admitted, Dropped dropped,
                     std::function<std::uint64_t()> clock)
    : config_(config),
      probe_(std::move(probe)),
      admitted_(std::move(admitted)),
      dropped_(std::move(dropped)),
      clock_(std::move(clock)) {}

Admission::~Admission() { *alive_ = false; }

AdmitDecision Admission::offer(const proto::NodeDescriptor& d, std::string_view source) {
    auto now = clock_();
    // Else one machine could queue registrations for addresses it does not hold: a flood of
    // strangers' addresses, each costing the authority a probe and a queue place.
    if (!registered_from(d.host, source, config_.test_network))
        return {AdmitStep::refused, "a registration must come from the address it registers"};
    auto kind = classify_address(d.host);
    if (!admissible(kind, config_.test_network))
        return {AdmitStep::refused, std::string("address refused: ") + to_string(kind) +
                                        (config_.test_network ? "" : " on a network that is not a test network")};
    auto address = sdk::net::Endpoint{d.host, d.port}.to_string();
    auto it = nodes_.find(d.ed25519);
    if (it != nodes_.end()) {
        auto& e = it->second;
        bool moved = e.descriptor.host != d.host || e.descriptor.port != d.port;
        // Before anything changes: an older descriptor (a replay, perhaps naming an old address)
        // must neither evict nor refresh the node.
        if (d.timestamp_ms < e.descriptor.timestamp_ms || (moved && d.timestamp_ms == e.descriptor.timestamp_ms))
            return {AdmitStep::refused, "descriptor older than the one this authority holds for the node"};
        if (!moved) {
            e.seen_ms = now;
            e.descriptor = d;  // the newest, for the registry once proven
            return {e.listed ? AdmitStep::listed : AdmitStep::checking, {}};
        }
        forget(it);  // moved: proven again at the new address
    }
    auto failed = failed_.find(d.ed25519);
    if (failed != failed_.end() && failed->second.until_ms > now && failed->second.address == address)
        return {AdmitStep::refused, "did not answer the admission challenge at " + address + "; retry in " +
                                        std::to_string((failed->second.until_ms - now) / 1000 + 1) + " s"};
    Entry entry{d, address_block(d.host), address_owner(d.host), false, false, false, false, 0, 0, now};
    if (auto why = over_limit(d.ed25519, entry); !why.empty()) return {AdmitStep::refused, why};
    if (auto why = make_room(entry); !why.empty()) return {AdmitStep::refused, why};
    entry.waiting = true;
    entry.order = next_order_++;
    nodes_[d.ed25519] = std::move(entry);
    dispatch();
    return {AdmitStep::checking, {}};
}

std::string Admission::make_room(const Entry& e) {
    std::size_t waiting = 0, at_owner = 0;
    std::map<std::string, std::size_t> per_block;
    for (const auto& [k, other] : nodes_) {
        if (!other.waiting) continue;
        ++waiting;
        ++per_block[other.block];
        at_owner += other.owner == e.owner ? 1 : 0;
    }
    if (config_.max_checks_per_block != 0 && at_owner >= config_.max_checks_per_block)
        return "address " + e.owner + " already has " + std::to_string(at_owner) +
               " registrations waiting for their check (max_checks_per_block = " +
               std::to_string(config_.max_checks_per_block) + "); retry later";
    auto mine = per_block[e.block];
    if (config_.max_waiting_per_block != 0 && mine >= config_.max_waiting_per_block)
        return "address block " + e.block + " already has " + std::to_string(mine) +
               " registrations waiting for their check (max_waiting_per_block = " +
               std::to_string(config_.max_waiting_per_block) + "); retry later";
    if (waiting < config_.max_waiting) return {};
    // Full: the block most represented in the queue gives up its newest, so registrations of
    // many addresses of a few blocks cannot lock out a block that waits with fewer.
    auto most = std::max_element(per_block.begin(), per_block.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most == per_block.end() || most->second <= mine + 1)
        return "the authority has " + std::to_string(waiting) + " registrations waiting for their check; retry later";
    auto victim = nodes_.end();
    for (auto it = nodes_.begin(); it != nodes_.end(); ++it)
        if (it->second.waiting && it->second.block == most->first && (victim == nodes_.end() || it->second.order > victim->second.order))
            victim = it;
    forget(victim);
    return {};
}

void Admission::dispatch() {
    while (in_flight_ < config_.max_probes_in_flight) {
        std::map<std::string, std::size_t> block_busy;
        for (const auto& [k, e] : nodes_) block_busy[e.block] += e.probing ? 1 : 0;
        // Fairest first: the block with the fewest checks under way (one block's unanswering
        // registrations never starve another's), then the address probed least recently (nor
        // one address's another's of its block), then the one waiting longest.
        const proto::PublicKey* next = nullptr;
        std::tuple<std::size_t, std::uint64_t, std::uint64_t> best{};
        for (const auto& [k, e] : nodes_) {
            if (!e.waiting) continue;
            auto busy = block_busy[e.block];
            if (config_.max_checks_per_block != 0 && busy >= config_.max_checks_per_block) continue;
            auto probed = owner_probed_ms_.find(e.owner);
            std::tuple rank{busy, probed == owner_probed_ms_.end() ? 0 : probed->second, e.order};
            if (!next || rank < best) next = &k, best = rank;
        }
        if (!next) return;
        auto key = *next;
        nodes_.at(key).waiting = false;
        start_probe(key);
    }
}

std::string Admission::over_limit(const proto::PublicKey& key, const Entry& e) const {
    // Only proven nodes count: unproven registrations cannot squat a block or an address.
    std::size_t in_block = 0, at_owner = 0;
    for (const auto& [k, other] : nodes_) {
        if (k == key || !other.listed) continue;
        in_block += other.block == e.block ? 1 : 0;
        at_owner += other.owner == e.owner ? 1 : 0;
    }
    if (config_.max_nodes_per_block != 0 && in_block >= config_.max_nodes_per_block)
        return "address block " + e.block + " already holds " + std::to_string(in_block) +
               " nodes (max_nodes_per_block = " + std::to_string(config_.max_nodes_per_block) + ")";
    if (config_.max_nodes_per_address != 0 && at_owner >= config_.max_nodes_per_address)
        return "address " + e.owner + " already holds " + std::to_string(at_owner) +
               " nodes (max_nodes_per_address = " + std::to_string(config_.max_nodes_per_address) + ")";
    return {};
}

void Admission::start_probe(const proto::PublicKey& key) {
    auto& e = nodes_.at(key);
    e.probing = true;
    e.recheck = e.listed;
    ++in_flight_;
    rechecks_in_flight_ += e.recheck ? 1 : 0;
    owner_probed_ms_[e.owner] = clock_();
    auto address = sdk::net::Endpoint{e.descriptor.host, e.descriptor.port}.to_string();
    probe_(e.descriptor, [this, alive = alive_, key, address, recheck = e.recheck](bool ok) {
        if (!*alive) return;
        --in_flight_;
        rechecks_in_flight_ -= recheck ? 1 : 0;
        on_probe(key, address, ok);
        dispatch();
    });
}

void Admission::on_probe(const proto::PublicKey& key, const std::string& address, bool ok) {
    auto now = clock_();
    auto it = nodes_.find(key);
    // Forgotten or moved meanwhile: this answer is about an address no longer asked about.
    if (it == nodes_.end() || sdk::net::Endpoint{it->second.descriptor.host, it->second.descriptor.port}.to_string() != address)
        return;
    it->second.probing = false;
    if (!ok) {
        failed_[key] = Failure{address, now + config_.retry_after_ms};
        forget(it);
        return;
    }
    // Proven, but others of its block or address were proven meanwhile: it waits for a free place.
    if (!it->second.listed && !over_limit(key, it->second).empty()) {
        forget(it);
        return;
    }
    it->second.checked_ms = now;
    if (!it->second.listed) {
        it->second.listed = true;
        admitted_(it->second.descriptor);
    }
}

void Admission::forget(std::map<proto::PublicKey, Entry>::iterator it) {
    bool was_listed = it->second.listed;
    auto key = it->first;
    nodes_.erase(it);
    if (was_listed) dropped_(key);
}

void Admission::tick() {
    auto now = clock_();
    std::erase_if(failed_, [now](const auto& kv) { return kv.second.until_ms <= now; });
    std::erase_if(owner_probed_ms_, [this, now](const auto& kv) { return kv.second + config_.retry_after_ms <= now; });
    std::vector<proto::PublicKey> due;
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        auto next = std::next(it);
        const auto& e = it->second;
        if (!e.probing && e.seen_ms + config_.forget_after_ms < now) forget(it);  // waiting ones too
        else if (e.listed && !e.probing && e.checked_ms + config_.recheck_ms <= now) due.push_back(it->first);
        it = next;
    }
    for (const auto& key : due) {
        if (in_flight_ >= config_.max_probes_in_flight || rechecks_in_flight_ >= config_.max_rechecks_in_flight) break;
        start_probe(key);
    }
    dispatch();
}

std::size_t Admission::listed_count() const {
    std::size_t n = 0;
    for (const auto& [key, e] : nodes_) n += e.listed ? 1 : 0;
    return n;
}

ChallengeProber::ChallengeProber(uv_loop_t* loop, proto::PublicKey authority_key, std::uint32_t timeout_ms)
    : loop_(loop), authority_key_(authority_key), timeout_ms_(timeout_ms) {}

ChallengeProber::~ChallengeProber() { *alive_ = false; }

void ChallengeProber::probe(const proto::NodeDescriptor& d, std::function<void(bool)> done) {
    namespace node = proto::node;
    proto::Hash nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    auto id = next_id_++;
    sdk::net::ClientOptions options;
    options.max_frame_bytes = 4096;
    options.connect_timeout_ms = timeout_ms_;
    auto& client = *clients_.emplace(id, std::make_unique<sdk::net::Client>(loop_, sdk::net::Endpoint{d.host, d.port}, options))
                        .first->second;
    auto request = sdk::transport::encode_service_request(
        node::kStorageService, node::encode_request({1, node::ChallengeRequest{authority_key_, nonce}}));
    auto expected = proto::challenge_message(authority_key_, nonce, d.host, d.port);
    client.request(std::move(request), timeout_ms_,
                   [this, alive = alive_, id, key = d.ed25519, expected = std::move(expected),
                    done = std::move(done)](sdk::Result<wire::Bytes> r) {
                       if (!*alive) return;
                       finished_.push_back(id);
                       bool ok = false;
                       if (r) {
                           auto outer = sdk::transport::decode_service_response(r.value(), 1024);
                           try {
                               if (outer && outer.value().status == sdk::transport::Status::ok) {
                                   auto resp = node::decode_response(node::Method::challenge, outer.value().body);
                                   const auto* c = std::get_if<node::ChallengeResponse>(&resp.body);
                                   ok = resp.status == node::Status::ok && c &&
                                        crypto::verify_signature(key, expected, c->signature);
                               }
                           } catch (const wire::DecodeError&) {
                           }
                       }
                       done(ok);
                   });
}

void ChallengeProber::collect() {
    for (auto id : finished_) clients_.erase(id);
    finished_.clear();
}

}  // namespace veil::directory
