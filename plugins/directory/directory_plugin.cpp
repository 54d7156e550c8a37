// plugins/directory: the directory authority. Descriptor, config table and wiring only: the
// rules live in authority.cpp (votes, consensus, signatures), registry.cpp and consensus.cpp;
// this file carries their bytes over framed TCP to the other authorities.
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include <fstream>
#include <map>
#include <set>

#include "authority.hpp"
#include "vote_outbox.hpp"
#include "veil/crypto/key_file.hpp"
#include "admission.hpp"
#include "veil/proto/directory_rpc.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::directory {

namespace {

using sdk::now_ms;
namespace fs = std::filesystem;

constexpr std::size_t kMaxFrameBytes = kMaxManifestBodyBytes + 8192;  // a vote or a manifest of 10,000 nodes

PublicKey parse_key(const std::string& hex) {
    auto raw = wire::from_hex(hex);
    if (raw.size() != 32) throw std::runtime_error("directory.authority_keys: each key is 64 hex digits");
    return wire::to_array<32>(raw);
}

// Another authority and what it has acknowledged.
struct Peer {
    PublicKey key{};
    std::unique_ptr<sdk::net::Client> client;
    std::optional<PeerOutbox> outbox;   // the votes it answered, the ones it asked for
    std::uint64_t signature_acked = 0;  // version of the last signature it answered
    std::unique_ptr<sdk::net::Client> bulk;  // the bulk lane: next-period bodies, manifests
    bool busy = false;                  // one request at a time on each lane
    bool bulk_busy = false;
    std::uint64_t lie_period = 0;       // test_misbehave: the period the three below are about
    wire::Bytes lie;                    // test_misbehave: the vote this peer got
    bool lie_sent = false;
    std::size_t lies_signed = 0;        // test_misbehave = "edge": signatures sent this period
    std::size_t flood_sent = 0;         // test_misbehave = "flood": votes sent this period
    bool big_sent = false;              // test_misbehave = "edge_big": the big vote went this period
};

class DirectoryPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        log_ = ctx.logger();
        auto key_path = cfg.get_string("key_file").empty() ? ctx.data_dir() / "authority.key"
                                                            : fs::path(cfg.get_string("key_file"));
        key_ = std::make_unique<crypto::SigningKeyPair>(crypto::load_or_create_signing_key(key_path));
        // The public key, for operators and `veil testnet` (it is public: clients configure it).
        std::ofstream(ctx.data_dir() / "authority.pub") << wire::to_hex(key_->pub) << "\n";
        saved_ = ctx.data_dir() / "consensus.bin";
        voted_file_ = ctx.data_dir() / "voted";
        misbehave_ = cfg.get_string("test_misbehave");

        AuthorityConfig ac;
        ac.consensus.assignment.target_swarm_size = static_cast<std::size_t>(std::max<std::int64_t>(1, cfg.get_int("target_swarm_size")));
        ac.consensus.assignment.min_swarm_size = static_cast<std::size_t>(std::max<std::int64_t>(1, cfg.get_int("min_swarm_size")));
        ac.consensus.period_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(200, cfg.get_int("period_ms")));
        ac.consensus.validity_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(1, cfg.get_int("validity_ms")));
        ac.consensus.test_network = cfg.get_bool("test_network");
        ac.consensus.max_nodes_per_block = static_cast<std::uint16_t>(std::clamp<std::int64_t>(cfg.get_int("max_nodes_per_block"), 0, 65535));
        ac.registry.heartbeat_timeout_ms = static_cast<std::uint64_t>(cfg.get_int("heartbeat_timeout_ms"));
        auto warm_up = cfg.get_int("warm_up_ms");
        ac.warm_up_ms = warm_up < 0 ? ac.registry.heartbeat_timeout_ms / 3 : static_cast<std::uint64_t>(warm_up);
        auto threshold = cfg.get_int("authority_threshold");
        if (threshold < 0) throw std::runtime_error("directory.authority_threshold must not be negative");
        ac.threshold = static_cast<std::size_t>(threshold);
        const auto& keys = cfg.get_strings("authority_keys");
        const auto& addresses = cfg.get_strings("authorities");
        if (keys.size() != addresses.size())
            throw std::runtime_error("directory.authorities: one host:port per key of authority_keys, in the same order");
        for (std::size_t i = 0; i < keys.size(); ++i) {
            auto k = parse_key(keys[i]);
            ac.authority_keys.push_back(k);
            if (k == key_->pub) continue;
            auto at = sdk::net::parse_endpoint(addresses[i]);
            if (!at) throw std::runtime_error("directory.authorities: " + at.error().message);
            sdk::net::ClientOptions co;
            co.max_frame_bytes = kMaxFrameBytes;
            Peer peer;
            peer.key = k;
            peer.outbox.emplace(key_->pub, k);
            peer.client = std::make_unique<sdk::net::Client>(ctx.loop(), at.value(), co);
            peer.bulk = std::make_unique<sdk::net::Client>(ctx.loop(), at.value(), co);
            peers_.push_back(std::move(peer));
        }
        if (ac.authority_keys.empty()) ac.authority_keys.push_back(key_->pub);  // a network of one
        ac.voted = load_voted();
        authority_ = std::make_unique<Authority>(*key_, ac);
        auto tick_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(50, cfg.get_int("tick_ms")));
        check_tick_meets_rounds(tick_ms);
        load_saved();
        start_admission(ctx, ac.registry.heartbeat_timeout_ms);

        auto at = sdk::net::parse_endpoint(cfg.get_string("listen"));
        if (!at) throw std::runtime_error("directory.listen: " + at.error().message);
        sdk::net::ServerOptions so;
        so.max_frame_bytes = kMaxFrameBytes;
        server_ = std::make_unique<sdk::net::Server>(ctx.loop(), so, [this](wire::Bytes body, sdk::net::Reply reply) {
            reply.reply(handle(body, reply.source()));
        });
        auto bound = server_->listen(at.value());
        if (!bound) throw std::runtime_error("directory: cannot listen: " + bound.error().message);
        ctx.log().info("directory authority listening on {} (1 of {}, threshold {}, period {} ms)", bound.value().to_string(),
                       ac.authority_keys.size(), authority_->threshold(), ac.consensus.period_ms);
        if (!misbehave_.empty()) ctx.log().warn("test_misbehave = {}: this authority lies (tests only)", misbehave_);
        ctx.set_interval(tick_ms, [this] { tick(); });
    }

    void stop() override {
        if (server_) server_->close();
        server_.reset();
        admission_.reset();
        prober_.reset();
        peers_.clear();
    }

private:
    // Registrations reach the registry only once the node proved its key at its address.
    void start_admission(sdk::Context& ctx, std::uint64_t heartbeat_timeout_ms) {
        const auto& cfg = ctx.config();
        AdmissionConfig ac;
        ac.test_network = cfg.get_bool("test_network");
        ac.max_nodes_per_block = static_cast<std::uint16_t>(std::clamp<std::int64_t>(cfg.get_int("max_nodes_per_block"), 0, 65535));
        ac.max_nodes_per_address = static_cast<std::uint16_t>(std::clamp<std::int64_t>(cfg.get_int("max_nodes_per_address"), 0, 65535));
        ac.max_checks_per_block = static_cast<std::uint16_t>(std::clamp<std::int64_t>(cfg.get_int("max_checks_per_block"), 0, 65535));
        ac.recheck_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(1000, cfg.get_int("recheck_ms")));
        ac.retry_after_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg.get_int("retry_after_ms")));
        ac.forget_after_ms = heartbeat_timeout_ms;
        prober_ = std::make_unique<ChallengeProber>(ctx.loop(), key_->pub,
                                                    static_cast<std::uint32_t>(std::max<std::int64_t>(100, cfg.get_int("challenge_timeout_ms"))));
        admission_ = std::make_unique<Admission>(
            ac, [this](const NodeDescriptor& d, std::function<void(bool)> done) { prober_->probe(d, std::move(done)); },
            [this](const NodeDescriptor& d) {
                auto r = authority_->register_node(d, now_ms());
                if (r != RegisterResult::ok) log_->info("a node proved its key but the registry refused it: {}", to_string(r));
            },
            [this](const PublicKey& key) { authority_->remove_node(key); }, [] { return now_ms(); });
    }

    // A vote leaves at the first tick of its period and must reach the others within one relay
    // round (delta = period_ms / 2 / threshold); a tick of more than half a round would leave
    // too little of it for the network, and honest votes would be refused as late.
    void check_tick_meets_rounds(std::uint64_t tick_ms) const {
        auto delta = authority_->vote_deadline_ms(0, 1);
        if (tick_ms > delta / 2)
            throw std::runtime_error("directory.tick_ms " + std::to_string(tick_ms) +
                                     " cannot meet the vote rounds: a round lasts period_ms / 2 / threshold = " +
                                     std::to_string(delta) + " ms and a vote leaves up to one tick late; set tick_ms to at most " +
                                     std::to_string(delta / 2));
    }

    void tick() {
        prober_->collect();
        admission_->tick();
        auto now = now_ms();
        auto before = authority_->served_version();
        authority_->tick(now);
        after_change(before);
        // Nothing leaves before the period voted for is on disk: after a crash a vote that left
        // unrecorded could be repeated, and be taken for equivocation. Retried at every tick.
        if (!voted_saved() && !save_voted()) return;
        for (auto& p : peers_) talk_to(p);
    }

    // Nothing leaves before the periods voted for are on disk (checked by both lanes, whatever
    // calls them: a tick, a vote passed on at once, an answer).
    bool voted_saved() const { return authority_->voted() == voted_; }

    // Logs and saves a newly served manifest (the saved one is taken back after a restart).
    void after_change(std::uint64_t before) {
        if (authority_->served_version() == before) return;
        auto m = decode_signed_manifest(authority_->served());
        log_->info("manifest version {}: {} nodes in {} swarms, {} of {} authority signatures", m.manifest.version,
                   m.manifest.nodes.size(), m.manifest.swarm_ids().size(), m.signatures.size(), peers_.size() + 1);
        std::ofstream(saved_, std::ios::binary | std::ios::trunc)
            .write(reinterpret_cast<const char*>(authority_->served().data()), static_cast<std::streamsize>(authority_->served().size()));
    }

    // The periods voted for, one run "first last" a line: never a second vote for one of them.
    std::map<std::uint64_t, std::uint64_t> load_voted() {
        std::ifstream in(voted_file_);
        std::uint64_t first = 0, last = 0;
        while (in >> first >> last) voted_[first] = std::max(first, last);
        return voted_;
    }

    // Reports a failure (and tries again at the next tick): a vote whose period was not recorded
    // could be repeated after a restart and taken for equivocation.
    bool save_voted() {
        std::string text;
        for (const auto& [first, last] : authority_->voted()) text += std::to_string(first) + ' ' + std::to_string(last) + '\n';
        if (auto failed = replace_durably(voted_file_, text); !failed.empty()) {
            log_->error("{}: the periods voted for are not saved; no vote leaves until they are", failed);
            return false;
        }
        voted_ = authority_->voted();
        return true;
    }

    // Writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the directory: after a crash
    // PATH holds the old text or the new, on disk. Returns what failed, or empty.
    static std::string replace_durably(const fs::path& path, std::string_view text) {
        auto tmp = path;
        tmp += ".tmp";
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return "cannot create " + tmp.string();
        bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
        ::close(fd);
        if (!written) return "cannot write " + tmp.string();
        if (::rename(tmp.c_str(), path.c_str()) != 0) return "cannot replace " + path.string();
        auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool synced = dfd >= 0 && ::fsync(dfd) == 0;
        if (dfd >= 0) ::close(dfd);
        return synced ? std::string() : "cannot sync " + dir.string();
    }

    void load_saved() {
        std::ifstream in(saved_, std::ios::binary);
        wire::Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (bytes.empty()) return;
        try {
            if (authority_->take_manifest(decode_signed_manifest(bytes), now_ms()))
                log_->info("saved manifest version {} taken back", authority_->served_version());
        } catch (const wire::DecodeError&) {
            log_->warn("saved manifest unreadable; waiting for the next consensus");
        }
    }

    // Two lanes (connections) to each peer, one request at a time on each. Votes lane, in the
    // order of PeerOutbox: its own vote, its signature, the others' votes by digest, the current
    // period's bodies asked for; vote requests follow each other at once. Bulk lane: the next
    // period's bodies asked for (after the middle), else its manifest (catching up on a consensus
    // this authority could not complete). Nothing large waits in front of a vote of this period.
    void talk_to(Peer& p) {
        talk_votes(p);
        talk_bulk(p);
    }

    OutboxClock outbox_clock() const {
        auto period_ms = authority_->consensus_params().period_ms;
        return {authority_->period(), now_ms() >= period_start_ms(authority_->period(), period_ms) + period_ms / 2};
    }

    void talk_votes(Peer& p) {
        if (p.busy || !voted_saved()) return;
        auto period = authority_->period();
        if (p.lie_period != period) {
            p.lie_period = period;
            p.lie.clear();
            p.lie_sent = false;
            p.lies_signed = 0;
            p.flood_sent = 0;
            p.big_sent = false;
        }
        std::optional<DirectoryRequest> q;
        auto sig = misbehave_.empty() ? authority_->own_signature() : lie_signature(p);
        bool signature_due = sig && p.signature_acked < sig->version;
        std::optional<OutboxItem> item;
        bool lying_vote = false;
        if (misbehave_ == "flood") {
            if (auto lie = flood_vote(p)) q = {DirectoryKind::post_vote, {}, std::move(*lie)};
        } else if (misbehave_ == "equivocate" || edge()) {
            if (auto big = big_vote(p)) q = {DirectoryKind::post_vote, {}, std::move(*big)};
            else if (auto lie = lie_vote(p)) {
                q = {DirectoryKind::post_vote, {}, std::move(*lie)};
                lying_vote = true;
            } else if (signature_due) q = {DirectoryKind::post_signature, {}, encode_consensus_signature(*sig)};
        } else if ((item = p.outbox->next(authority_->votes_to_relay(), signature_due, outbox_clock()))) {
            if (item->step == OutboxStep::signature) q = {DirectoryKind::post_signature, {}, encode_consensus_signature(*sig)};
            else if (item->step == OutboxStep::offer) q = {DirectoryKind::offer_vote, {}, wire::Bytes(item->digest.begin(), item->digest.end())};
            else q = {DirectoryKind::post_vote, {}, wire::Bytes(item->relayed.begin(), item->relayed.end())};
            item->relayed = {};  // not valid past this call
        }
        if (!q) return;
        p.busy = true;
        auto kind = q->kind;
        auto bytes = encode_directory_request(*q);
        auto timeout = peer_timeout_ms(bytes.size());
        std::uint64_t version = sig ? sig->version : 0;
        p.client->request(std::move(bytes), timeout, [this, &p, kind, item, version, lying_vote](sdk::Result<wire::Bytes> r) {
            p.busy = false;
            if (!r) {
                if (item) p.outbox->failed(*item);
                if (!misbehave_.empty()) log_->warn("test_misbehave: no answer: {}", r.error().message);
                return;
            }
            try {
                auto resp = decode_directory_response(kind, r.value());
                if (item) p.outbox->answered(*item, resp.status);
                if (!misbehave_.empty() && kind == DirectoryKind::post_vote && resp.status != DirectoryStatus::ok)
                    log_->warn("test_misbehave: vote refused: {}", resp.message);
                if (lying_vote) p.lie_sent = true;
                else if (kind == DirectoryKind::post_signature && resp.status != DirectoryStatus::not_ready &&
                         (!edge() || ++p.lies_signed == kEdgeBodies))
                    p.signature_acked = version;
            } catch (const wire::DecodeError& e) {
                log_->warn("another authority sent a malformed answer: {}", e.what());
            }
            if (kind == DirectoryKind::post_vote || kind == DirectoryKind::offer_vote) talk_votes(p);
        });
    }

    void talk_bulk(Peer& p) {
        if (p.bulk_busy || !voted_saved()) return;
        // The manifest fetch names the version held: the answer is a full manifest only when the
        // peer's is newer. Paused before the middle, while this period's votes travel.
        DirectoryRequest q{DirectoryKind::get_manifest, {}, {}, authority_->served_version()};
        std::optional<OutboxItem> item;
        auto clock = outbox_clock();
        if (misbehave_.empty() && (item = p.outbox->next_bulk(authority_->votes_to_relay(), clock))) {
            q = {DirectoryKind::post_vote, {}, wire::Bytes(item->relayed.begin(), item->relayed.end())};
            item->relayed = {};  // not valid past this call
        } else if (!clock.past_middle) {
            return;
        }
        p.bulk_busy = true;
        auto kind = q.kind;
        auto bytes = encode_directory_request(q);
        // A manifest's size is known only once it arrives: the largest one's time.
        auto timeout = peer_timeout_ms(kind == DirectoryKind::get_manifest ? kMaxFrameBytes : bytes.size());
        p.bulk->request(std::move(bytes), timeout, [this, &p, kind, item](sdk::Result<wire::Bytes> r) {
            p.bulk_busy = false;
            if (!r) {
                if (item) p.outbox->failed(*item);
                return;
            }
            try {
                auto resp = decode_directory_response(kind, r.value());
                if (item) p.outbox->answered(*item, resp.status);
                else if (resp.status == DirectoryStatus::ok) {
                    auto before = authority_->served_version();
                    authority_->take_manifest(decode_signed_manifest(resp.manifest), now_ms());
                    after_change(before);
                }
            } catch (const wire::DecodeError& e) {
                log_->warn("another authority sent a malformed answer: {}", e.what());
            }
            if (item) talk_bulk(p);
        });
    }

    wire::Bytes handle(const wire::Bytes& body, std::string_view source) {
        DirectoryKind kind = DirectoryKind::get_manifest;
        auto refused = [&kind](std::string why) { return encode_directory_response(kind, {DirectoryStatus::refused, {}, std::move(why)}); };
        auto ok = [&kind](wire::Bytes manifest = {}) { return encode_directory_response(kind, {DirectoryStatus::ok, std::move(manifest), {}}); };
        try {
            auto q = decode_directory_request(body);
            kind = q.kind;
            auto now = now_ms();
            switch (q.kind) {
                case DirectoryKind::get_manifest:
                    if (misbehave_ == "sign_alone") return ok(alone());
                    if (authority_->served().empty())
                        return encode_directory_response(kind, {DirectoryStatus::not_ready, {}, "no manifest yet"});
                    if (q.held_version != 0 && authority_->served_version() <= q.held_version)
                        return encode_directory_response(kind, {DirectoryStatus::current, {}, "not newer"});
                    return ok(authority_->served());
                case DirectoryKind::post_vote: {
                    auto relayed = decode_relayed_vote(q.body);
                    auto taken = authority_->take_vote(relayed, now);
                    if (taken == VoteTaken::taken) {
                        auto header = proto::peek_vote(relayed.envelope);  // authority keys are public
                        log_->info("took the vote of authority {} for period {}", wire::to_hex(header.authority).substr(0, 16),
                                   header.period);
                    }
                    if (taken == VoteTaken::equivocation)
                        log_->warn("an authority signed two different votes for period {}: its vote is left out",
                                   authority_->period());
                    if (taken == VoteTaken::refused)
                        return refused(relayed.envelope.size() > authority_->max_vote_bytes() ? "vote larger than one round carries"
                                                                                             : "vote not taken");
                    // Passed on at once: the others take it late only while its round lasts.
                    if (taken != VoteTaken::known)
                        for (auto& p : peers_) talk_to(p);
                    return ok();
                }
                case DirectoryKind::offer_vote:
                    // Relayed votes come by digest: the whole vote only when this one lacks it.
                    if (authority_->holds(wire::to_array<32>(q.body))) return ok();
                    return encode_directory_response(kind, {DirectoryStatus::wanted, {}, "send the whole vote"});
                case DirectoryKind::post_signature: {
                    auto before = authority_->served_version();
                    auto taken = authority_->take_signature(decode_consensus_signature(q.body), now);
                    after_change(before);
                    if (taken == SignatureTaken::not_ready)
                        return encode_directory_response(kind, {DirectoryStatus::not_ready, {}, "consensus not formed yet"});
                    if (taken == SignatureTaken::refused) return refused("signature does not verify over this authority's consensus");
                    return ok();
                }
                case DirectoryKind::register_node: {
                    // A node enters this authority's view only once it proved its key at its address.
                    auto d = decode_verified_descriptor(q.descriptor);
                    auto admit = admission_->offer(d, source);
                    if (admit.step == AdmitStep::refused) {
                        log_->info("registration refused: {}", admit.reason);
                        return refused(admit.reason);
                    }
                    if (admit.step == AdmitStep::checking)
                        return encode_directory_response(kind, {DirectoryStatus::checking, {}, "admission challenge under way"});
                    auto result = authority_->register_node(d, now);
                    if (result != RegisterResult::ok) return refused(to_string(result));
                    return ok();
                }
            }
            return refused("unknown request");
        } catch (const wire::DecodeError& e) {
            return encode_directory_response(kind, {DirectoryStatus::bad_request, {}, e.what()});
        }
    }

    // Tests only (test_misbehave = "sign_alone"): this period's consensus with a version far
    // ahead, signed by this authority alone. Nodes and clients must refuse it.
    wire::Bytes alone() {
        const auto& c = authority_->candidate();
        Manifest m = c ? c->manifest : Manifest{};
        m.version = authority_->period() + 1000;
        m.valid_until_ms = now_ms() + 3'600'000;
        std::vector<const crypto::SigningKeyPair*> signers{key_.get()};
        return sign_manifest(m, signers).encode();
    }

    // Tests only (test_misbehave = "equivocate"): peers in even places get a vote listing every
    // node this authority sees, the others an empty one; each later gets this authority's
    // signature over the consensus that vote would give it (signing both sides).
    // test_misbehave = "edge": the same two votes, timed at the edges of the vote rounds: the full
    // one to the first peer just before the first round ends, the empty one to the second just
    // before the middle; every peer then gets its signature on each body the votes could give
    // (its vote left out, full, empty), so any two bodies honest authorities formed would both
    // carry a majority.
    std::optional<wire::Bytes> lie_vote(Peer& p) {
        if (authority_->vote_envelope().empty() || p.lie_sent) return std::nullopt;
        auto index = static_cast<std::size_t>(&p - peers_.data());
        if (edge()) {
            auto rounds_end = [this](std::size_t k) { return authority_->vote_deadline_ms(authority_->period(), k); };
            if (index > 1 || now_ms() + (index == 0 ? 40 : 60) < rounds_end(index == 0 ? 1 : kMaxVoteRelays)) return std::nullopt;
        }
        if (p.lie.empty()) p.lie = lie(index % 2 == 0);
        return encode_relayed_vote({p.lie, {}});
    }

    // Tests only (test_misbehave = "flood"): every peer gets kFloodVotes different votes a
    // period, for this period and the next, each as large as a vote may be (max_vote_bytes,
    // ~75 bytes a made-up node), back to back: honest votes must still arrive and count within
    // their round.
    static constexpr std::size_t kFloodVotes = 100;
    std::optional<wire::Bytes> flood_vote(Peer& p) {
        if (authority_->vote_envelope().empty() || p.flood_sent >= kFloodVotes) return std::nullopt;
        if (flood_nodes_.empty())
            for (std::size_t i = 0; i < authority_->max_vote_bytes() / 80; ++i) {
                auto k = crypto::SigningKeyPair::generate();
                flood_nodes_.push_back({k.pub, crypto::ed25519_to_x25519(k.pub), "127.0.0.1", 1});
            }
        auto own = decode_verified_vote(authority_->vote_envelope());
        own.period += p.flood_sent % 2;
        own.nodes = flood_nodes_;
        for (auto& n : own.nodes) n.port = static_cast<std::uint16_t>(1 + p.flood_sent);  // a new vote each time
        ++p.flood_sent;
        return encode_relayed_vote({sign_vote(std::move(own), *key_), {}});
    }

    // Tests only: kBigNodes made-up nodes with the longest host names: a vote of ~3.2 MB, near
    // the largest an authority takes (kMaxManifestBodyBytes).
    static constexpr std::size_t kBigNodes = 10'000;
    const std::vector<VotedNode>& largest_nodes() {
        if (big_nodes_.empty())
            for (std::size_t i = 0; i < kBigNodes; ++i) {
                VotedNode n{{}, {}, std::string(kMaxHostBytes, 'h'), 1};
                randombytes_buf(n.ed25519.data(), n.ed25519.size());
                randombytes_buf(n.x25519.data(), n.x25519.size());
                big_nodes_.push_back(std::move(n));
            }
        return big_nodes_;
    }

    bool edge() const { return misbehave_ == "edge" || misbehave_ == "edge_big"; }

    // Tests only (test_misbehave = "edge_big"): as "edge", and in even periods, first, the first
    // peer gets a vote of the largest size for the next period. It relays it to the second, which
    // lacks it: a next-period body that must not hold up the relay of this period's edge vote.
    std::optional<wire::Bytes> big_vote(Peer& p) {
        if (misbehave_ != "edge_big" || p.big_sent || &p != peers_.data() || authority_->vote_envelope().empty() ||
            authority_->period() % 2 != 0)
            return std::nullopt;
        p.big_sent = true;
        auto own = decode_verified_vote(authority_->vote_envelope());
        own.period += 1;
        own.nodes = largest_nodes();
        return encode_relayed_vote({sign_vote(std::move(own), *key_), {}});
    }

    wire::Bytes lie(bool full) {
        auto own = decode_verified_vote(authority_->vote_envelope());
        if (!full) own.nodes.clear();
        return sign_vote(std::move(own), *key_);
    }

    static constexpr std::size_t kEdgeBodies = 3;

    std::optional<ConsensusSignature> lie_signature(const Peer& p) {
        if (misbehave_ == "sign_alone") return authority_->own_signature();
        auto period = authority_->period();
        if (authority_->vote_envelope().empty() ||
            now_ms() < period_start_ms(period, authority_->consensus_params().period_ms) + authority_->consensus_params().period_ms / 2)
            return std::nullopt;
        std::optional<wire::Bytes> told;  // the vote whose body this peer gets signed
        if (edge()) {
            if (p.lies_signed > 0) told = lie(p.lies_signed == 1);
        } else if (!p.lie.empty()) {
            told = p.lie;
        } else {
            return std::nullopt;
        }
        auto votes = authority_->counted_votes();
        std::erase_if(votes, [this](const Vote& v) { return v.authority == key_->pub; });
        if (told) votes.push_back(decode_verified_vote(*told));
        auto own = decode_verified_vote(authority_->vote_envelope());
        std::optional<Manifest> previous;
        if (!authority_->served().empty()) previous = decode_signed_manifest(authority_->served()).manifest;
        if (previous && previous->version != own.previous_version) previous.reset();  // not what the votes built on
        auto m = form_consensus(votes, period, previous ? &*previous : nullptr, authority_->consensus_params());
        std::vector<const crypto::SigningKeyPair*> signers{key_.get()};
        return ConsensusSignature{m.version, key_->pub, sign_manifest(m, signers).signatures.front().second};
    }

    std::unique_ptr<crypto::SigningKeyPair> key_;
    std::unique_ptr<Authority> authority_;
    std::unique_ptr<ChallengeProber> prober_;
    std::unique_ptr<Admission> admission_;
    std::unique_ptr<sdk::net::Server> server_;
    std::vector<Peer> peers_;
    std::shared_ptr<spdlog::logger> log_;
    fs::path saved_;
    fs::path voted_file_;
    std::map<std::uint64_t, std::uint64_t> voted_;  // as last saved
    std::string misbehave_;
    std::vector<VotedNode> flood_nodes_;  // test_misbehave = "flood"
    std::vector<VotedNode> big_nodes_;    // test_misbehave = "edge_big"
};

constexpr sdk::ConfigKeySpec kKeys[] = {
    {"listen", sdk::ConfigType::string, "127.0.0.1:7700", "address the authority listens on"},
    {"key_file", sdk::ConfigType::string, "", "Ed25519 seed file (default HOME/directory/authority.key)"},
    {"authority_keys", sdk::ConfigType::string_list, "[]", "hex Ed25519 keys of ALL the network's authorities, this one's too (network.toml); empty: a network of one"},
    {"authorities", sdk::ConfigType::string_list, "[]", "host:port of each authority, in the order of authority_keys (network.toml)"},
    {"authority_threshold", sdk::ConfigType::integer, "0", "signatures a manifest needs (network.toml); 0: more than half of the authorities"},
    {"period_ms", sdk::ConfigType::integer, "60000", "one vote and one consensus per period; the version is the period's index"},
    {"validity_ms", sdk::ConfigType::integer, "600000", "how long a manifest stays valid after its period starts"},
    {"test_network", sdk::ConfigType::boolean, "false", "loopback and private node addresses allowed (network.toml; recorded in the manifest)"},
    {"max_nodes_per_block", sdk::ConfigType::integer, "4", "nodes admitted per /24 (IPv4) or /48 (IPv6), 0: no limit (network.toml; recorded in the manifest)"},
    {"max_nodes_per_address", sdk::ConfigType::integer, "2", "proven nodes admitted per IPv4 address or IPv6 /64, 0: no limit"},
    {"max_checks_per_block", sdk::ConfigType::integer, "4", "registrations under the admission check at once per /24 or /48, 0: no limit"},
    {"target_swarm_size", sdk::ConfigType::integer, "3", "nodes per new swarm"},
    {"min_swarm_size", sdk::ConfigType::integer, "2", "below this a swarm takes nodes from the largest"},
    {"heartbeat_timeout_ms", sdk::ConfigType::integer, "15000", "a node silent this long leaves this authority's vote"},
    {"warm_up_ms", sdk::ConfigType::integer, "-1", "after a start, no vote until this long passed (nodes re-register); -1: heartbeat_timeout_ms / 3"},
    {"tick_ms", sdk::ConfigType::integer, "500", "how often the authority checks its clock and talks to the others"},
    {"test_misbehave", sdk::ConfigType::string, "", "tests only: \"sign_alone\" serves a far-ahead manifest signed by this authority alone; \"equivocate\" sends different votes to different authorities and signs every side; \"edge\" times them at the edges of the vote rounds; \"edge_big\" also sends the first authority a ~3.2 MB next-period vote in even periods; \"flood\" sends every authority 100 different votes of the largest size taken a period"},
    {"recheck_ms", sdk::ConfigType::integer, "600000", "how often a listed node proves its key at its address again"},
    {"retry_after_ms", sdk::ConfigType::integer, "60000", "an address that failed the challenge is not probed again before this"},
    {"challenge_timeout_ms", sdk::ConfigType::integer, "5000", "how long a node has to answer the admission challenge"},
};
constexpr std::string_view kProvides[] = {"directory"};

constexpr sdk::PluginInfo kInfo{
    .name = "directory",
    .version = "0.2.0",
    .kind = sdk::PluginKind::role,
    .description = "directory authority (one of N): node registrations, votes, signed consensus manifest",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = {},
};

}  // namespace
}  // namespace veil::directory

VEIL_PLUGIN(directory, veil::directory::kInfo, veil::directory::DirectoryPlugin)
