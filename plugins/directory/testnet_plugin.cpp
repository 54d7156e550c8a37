// plugins/directory (testnet): the `veil testnet up|status|down --dir DIR` command (DESIGN.md §8).
// Registration, argument parsing and process control only; file contents are in testnet.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>

#include "veil/proto/directory_rpc.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/proto/manifest.hpp"
#include "hosts.hpp"
#include "link_profile.hpp"
#include "testnet.hpp"
#include "testnet_faults.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/clock.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/plugin.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::directory {

namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kUpTimeoutMs = 60'000;
constexpr std::uint64_t kDownTimeoutMs = 10'000;
constexpr int kMaxPortMoves = 8;  // ports lost to other programs before `up` gives up

// True when `answer` (to a storage info request) says the node serves `version` or a later one.
bool info_reaches(const wire::Bytes& answer, std::uint64_t version) {
    auto service = sdk::transport::decode_service_response(answer, answer.size());
    if (!service || service.value().status != sdk::transport::Status::ok) return false;
    try {
        auto resp = proto::node::decode_response(proto::node::Method::info, service.value().body);
        return resp.status == proto::node::Status::ok &&
               std::get<proto::node::InfoResponse>(resp.body).manifest_version >= version;
    } catch (const wire::DecodeError&) {
        return false;
    }
}

struct Options {
    std::string verb;
    fs::path dir;
    std::size_t nodes = 0;
    std::size_t swarm_size = 3;
    std::size_t authorities = 3;
    std::vector<std::string> node_options;       ///< "[plugin.]key=value" lines for every node's tables
    std::vector<std::string> authority_options;  ///< "key=value" lines for every authority's [directory]
    bool hosts = false;                           ///< each process in its own network namespace (hosts.hpp)
    std::optional<std::uint64_t> delay_ms;        ///< --hosts: one-way delay of every link
    std::optional<fs::path> profile;              ///< --hosts: the links' profile (link_profile.hpp)
    std::string name;                             ///< add-host: the new host's name; faults: the target
    std::optional<std::int64_t> clock_offset_s;   ///< restart: the process's wall clock this far off
};

// With --hosts every process has its own address, so the ports are fixed (DESIGN.md defaults).
constexpr std::uint16_t kHostsAuthorityPort = 7700;
constexpr std::uint16_t kHostsNodePort = 7800;
constexpr unsigned kFirstClientSubnet = 201;  // authorities and nodes take subnets 1..200

constexpr std::int64_t kMaxClockOffsetS = 86'400;

bool fault_verb(const std::string& v) { return v == "kill" || v == "restart" || v == "cut" || v == "heal"; }

bool plain_name(const std::string& n) {
    return !n.empty() && n.size() <= 20 &&
           std::all_of(n.begin(), n.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::optional<Options> parse(const std::vector<std::string>& a, std::string& error) {
    Options o;
    if (a.empty()) {
        error = "usage: veil testnet up --nodes N [--swarm-size K] [--authorities A] [--node-option KEY=VALUE]..."
                " [--authority-option KEY=VALUE]... [--hosts [--delay MS] [--profile FILE]] --dir DIR"
                " | add-host --name NAME --dir DIR | kill|cut|heal --name NAME --dir DIR"
                " | restart --name NAME [--clock-offset SECONDS] --dir DIR | status --dir DIR | down --dir DIR";
        return std::nullopt;
    }
    o.verb = a[0];
    for (std::size_t i = 1; i < a.size(); ++i) {
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= a.size()) return std::nullopt;
            return a[++i];
        };
        std::optional<std::string> v;
        try {
            if (a[i] == "--dir" && (v = value())) o.dir = fs::absolute(*v);
            else if (a[i] == "--nodes" && (v = value())) o.nodes = std::stoul(*v);
            else if (a[i] == "--swarm-size" && (v = value())) o.swarm_size = std::stoul(*v);
            else if (a[i] == "--authorities" && (v = value())) o.authorities = std::stoul(*v);
            else if (a[i] == "--authority-option" && (v = value()) && v->find('=') != std::string::npos)
                o.authority_options.push_back(*v);
            else if (a[i] == "--node-option" && (v = value()) && v->find('=') != std::string::npos)
                o.node_options.push_back(*v);
            else if (a[i] == "--hosts") o.hosts = true;
            else if (a[i] == "--delay" && (v = value())) o.delay_ms = std::stoull(*v);
            else if (a[i] == "--profile" && (v = value())) o.profile = fs::absolute(*v);
            else if (a[i] == "--name" && (v = value())) o.name = *v;
            else if (a[i] == "--clock-offset" && (v = value())) o.clock_offset_s = std::stoll(*v);
            else {
                error = "veil testnet: unexpected argument '" + a[i] + "'";
                return std::nullopt;
            }
        } catch (const std::exception&) {
            error = "veil testnet: " + a[i] + " needs a number";
            return std::nullopt;
        }
    }
    if (o.dir.empty()) error = "veil testnet: --dir DIR is required";
    else if (o.verb != "up" && o.verb != "status" && o.verb != "down" && o.verb != "add-host" && !fault_verb(o.verb))
        error = "veil testnet: unknown verb '" + o.verb + "'";
    else if (fault_verb(o.verb) && !plain_name(o.name)) error = "veil testnet " + o.verb + ": --name NAME is required";
    else if (o.clock_offset_s && o.verb != "restart") error = "veil testnet: --clock-offset goes with restart";
    else if (o.clock_offset_s && (*o.clock_offset_s < -kMaxClockOffsetS || *o.clock_offset_s > kMaxClockOffsetS))
        error = "veil testnet restart: --clock-offset within a day either way";
    else if ((o.delay_ms || o.profile) && !o.hosts) error = "veil testnet up: --delay and --profile need --hosts";
    else if (o.delay_ms && *o.delay_ms > 60'000) error = "veil testnet up: --delay 0..60000";
    else if (o.verb == "up" && o.hosts && o.authorities + o.nodes >= kFirstClientSubnet)
        error = "veil testnet up --hosts: at most " + std::to_string(kFirstClientSubnet - 1) + " authorities and nodes";
    else if (o.verb == "add-host" && !plain_name(o.name)) error = "veil testnet add-host: --name NAME (a-z, 0-9, -; up to 20)";
    else if (o.verb == "up" && (o.nodes < 1 || o.nodes > 200)) error = "veil testnet up: --nodes N (1..200) is required";
    else if (o.verb == "up" && (o.swarm_size < 1 || o.swarm_size > 50)) error = "veil testnet up: --swarm-size 1..50";
    else if (o.verb == "up" && (o.authorities < 1 || o.authorities > kMaxManifestSignatures))
        error = "veil testnet up: --authorities 1.." + std::to_string(kMaxManifestSignatures);
    if (!error.empty()) return std::nullopt;
    return o;
}

// One `veil testnet` invocation; lives until it finishes the call.
class TestnetRun final {
public:
    TestnetRun(sdk::Context& ctx, sdk::CommandCall call, Options o) : ctx_(ctx), call_(std::move(call)), o_(std::move(o)) {}

    void run() {
        try {
            if (o_.verb == "up") up();
            else if (o_.verb == "add-host") add_host();
            else if (fault_verb(o_.verb)) fault();
            else if (o_.verb == "status") status();
            else down();
        } catch (const std::exception& e) {
            call_.fail(std::string("veil testnet: ") + e.what(), sdk::exit_code::failure);
        }
    }

private:
    void up() {
        for (const auto& [name, pid] : read_pids(o_.dir))
            if (is_testnet_process(pid, o_.dir))
                throw std::runtime_error("a test network is already up in " + o_.dir.string() + " (veil testnet down first)");
        fs::create_directories(o_.dir);
        if (HostsNet::exists(o_.dir)) HostsNet::remove(o_.dir);  // left by an `up` that crashed
        if (o_.hosts) (void)load_link_profile(o_.profile, "", o_.delay_ms);  // a bad profile stops us here
        plan_.dir = o_.dir;
        plan_.swarm_size = o_.swarm_size;
        plan_.node_options = o_.node_options;
        plan_.authority_options = o_.authority_options;
        for (std::size_t i = 1; i <= o_.authorities; ++i) {
            auto name = "authority-" + std::to_string(i);
            plan_.authorities.push_back({name, o_.dir / name / "veil.toml", o_.dir / name / "veil.log", free_loopback_port(),
                                         crypto::load_or_create_signing_key(o_.dir / name / "directory" / "authority.key").pub});
        }
        for (std::size_t i = 1; i <= o_.nodes; ++i) {
            auto name = "node-" + std::to_string(i);
            plan_.nodes.push_back({name, o_.dir / name / "veil.toml", o_.dir / name / "veil.log", free_loopback_port(),
                                   crypto::load_or_create_signing_key(o_.dir / name / "service-node" / "node.key").pub});
        }
        if (o_.hosts) {
            try {
                place_on_hosts();
            } catch (const std::exception&) {
                HostsNet::remove(o_.dir);  // an `ip` that failed half-way leaves nothing behind
                throw;
            }
        }
        write_configs();
        start_all();
        started_ = now();
        ctx_.set_interval(200, [this] { poll_up(); });
    }

    // --hosts: a namespace, an address and fixed ports for every process (hosts.hpp).
    void place_on_hosts() {
        hosts_ = std::make_unique<HostsNet>(HostsNet::create(o_.dir));
        unsigned subnet = 0;
        for (auto* list : {&plan_.authorities, &plan_.nodes}) {
            for (auto& p : *list) {
                auto h = hosts_->add(p.name, ++subnet);
                p.host = h.address;
                p.port = list == &plan_.authorities ? kHostsAuthorityPort : kHostsNodePort;
                netns_[p.name] = h.netns;
            }
        }
    }

    // The link emulator in front of p (its public address -> p on its namespace's loopback).
    void start_link(const TestnetProcess& p) {
        const auto port = std::to_string(p.port);
        std::vector<std::string> args{(fs::path(self_exe()).parent_path() / "veil-link").string(),
                                      "--listen", p.host + ":" + port, "--to", "127.0.0.1:" + port,
                                      "--link", p.name, "--dir", o_.dir.string()};
        if (o_.delay_ms) args.insert(args.end(), {"--delay", std::to_string(*o_.delay_ms)});
        if (o_.profile) args.insert(args.end(), {"--profile", o_.profile->string()});
        pids_["link-" + p.name] = spawn(args, o_.dir / p.name / "link.log", netns_[p.name]);
    }

    // `add-host --name NAME`: a client's namespace on the testnet's bridge; prints where it is.
    void add_host() {
        auto net = HostsNet::open(o_.dir);
        unsigned clients = 0;
        for (const auto& h : net.hosts()) {
            if (h.name == o_.name) throw std::runtime_error("host " + o_.name + " exists already");
            if (h.netns.empty() || h.address.empty()) continue;
            auto third = h.address.substr(net.prefix().size() + 1);
            if (std::stoul(third.substr(0, third.find('.'))) >= kFirstClientSubnet) ++clients;
        }
        if (kFirstClientSubnet + clients > 254) throw std::runtime_error("no subnet left for another client host");
        auto h = net.add(o_.name, kFirstClientSubnet + clients);
        call_.out("netns " + h.netns + "\naddress " + h.address + "\n");
        call_.finish(sdk::exit_code::ok);
    }

    // kill|restart|cut|heal --name NAME (testnet_faults.hpp): one fault, said in one line.
    void fault() {
        std::string done;
        if (o_.verb == "kill") {
            auto pid = kill_testnet_process(o_.dir, o_.name);
            done = pid ? "killed " + o_.name + " (pid " + std::to_string(pid) + ", SIGKILL)" : o_.name + " was not running";
        } else if (o_.verb == "restart") {
            auto pid = restart_testnet_process(o_.dir, o_.name, o_.clock_offset_s);
            done = "started " + o_.name + " again (pid " + std::to_string(pid) + ")" +
                   (o_.clock_offset_s ? ", its clock " + std::to_string(*o_.clock_offset_s) + " s off" : "");
        } else {
            set_host_link(o_.dir, o_.name, o_.verb == "heal");
            done = o_.verb == "cut" ? "cut " + o_.name + " off the network" : "joined " + o_.name + " to the network again";
        }
        call_.out("testnet " + o_.verb + ": " + done + "\n");
        call_.finish(sdk::exit_code::ok);
    }

    void write_configs() {
        for (std::size_t i = 0; i < plan_.authorities.size(); ++i)
            std::ofstream(plan_.authorities[i].config) << authority_config(plan_, i);
        for (std::size_t i = 0; i < plan_.nodes.size(); ++i) std::ofstream(plan_.nodes[i].config) << node_config(plan_, i);
    }

    // Spawns p and remembers where its log stood, so that only this run's lines are read later.
    void start(const TestnetProcess& p) {
        std::error_code ec;
        auto size = fs::file_size(p.log, ec);
        log_start_[p.name] = ec ? 0 : size;
        pids_[p.name] = spawn({self_exe(), "--config", p.config.string()}, p.log, netns_[p.name]);
        if (o_.hosts) start_link(p);
    }

    // Every authority, then every node; `up` asks the first authority for the manifest.
    void start_all() {
        for (const auto& a : plan_.authorities) start(a);
        for (const auto& n : plan_.nodes) start(n);
        write_pids();
        directory_ = std::make_unique<sdk::net::Client>(ctx_.loop(), sdk::net::Endpoint{plan_.authorities[0].host, plan_.authorities[0].port});
    }

    void write_pids() {
        std::ofstream pids(o_.dir / "testnet.pids", std::ios::trunc);
        for (const auto& a : plan_.authorities) pids << a.name << " " << pids_[a.name] << "\n";
        for (const auto& n : plan_.nodes) pids << n.name << " " << pids_[n.name] << "\n";
        for (const auto& [name, pid] : pids_)
            if (name.starts_with("link-")) pids << name << " " << pid << "\n";
    }

    // True when `name`'s run since its last start ended because its port was taken (another
    // program bound it between our pick and its bind).
    bool lost_its_port(const TestnetProcess& p) {
        std::ifstream in(p.log, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(log_start_[p.name]));
        std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return tail.find("address already in use") != std::string::npos;
    }

    // The port race ("bind first, or pick again"): the process that lost its port gets a fresh
    // one and starts again, said aloud. An authority's port is in every config, so when it moves
    // every process starts again.
    void move_to_fresh_port(TestnetProcess& p) {
        const auto old_port = p.port;
        p.port = free_loopback_port();
        write_configs();
        if (p.name.starts_with("authority-")) {
            for (const auto& [name, pid] : pids_) stop_now(pid);
            start_all();
        } else {
            start(p);
            write_pids();
        }
        call_.out("testnet up: " + p.name + " could not listen on 127.0.0.1:" + std::to_string(old_port) +
                  " (taken since it was picked); started again on port " + std::to_string(p.port) + "\n");
    }

    void stop_now(int pid) {
        if (!is_testnet_process(pid, o_.dir)) return;
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 250 && is_testnet_process(pid, o_.dir); ++i) ::usleep(20'000);
    }

    TestnetProcess* process_named(const std::string& name) {
        for (auto& a : plan_.authorities)
            if (a.name == name) return &a;
        for (auto& n : plan_.nodes)
            if (n.name == name) return &n;
        return nullptr;
    }

    // Done when the directory's manifest lists every node and every node serves that version.
    void poll_up() {
        if (call_.finished() || busy_) return;
        if (now() - started_ > kUpTimeoutMs) {
            abort_up("veil testnet up: the network did not come up within 60 s; see the veil.log files in " +
                     o_.dir.string());
            return;
        }
        for (const auto& [name, pid] : read_pids(o_.dir)) {
            if (!process_exited(pid)) continue;  // these are our own children: no pid reuse before we reap
            auto* p = process_named(name);
            if (p && lost_its_port(*p) && port_moves_ < kMaxPortMoves) {
                ++port_moves_;
                move_to_fresh_port(*p);
                return;
            }
            // A link emulator's log is its host's link.log; its last line says why it stopped.
            auto log = name.starts_with("link-") ? o_.dir / name.substr(5) / "link.log" : o_.dir / name / "veil.log";
            std::ifstream in(log);
            std::string line, last;
            while (std::getline(in, line))
                if (!line.empty()) last = line;
            abort_up("veil testnet up: " + name + " exited; see " + log.string() + (last.empty() ? "" : " (" + last + ")"));
            return;
        }
        busy_ = true;
        DirectoryRequest q{DirectoryKind::get_manifest, {}, {}};
        directory_->request(encode_directory_request(q), 2000, [this](sdk::Result<wire::Bytes> r) {
            busy_ = false;
            if (!r) return;
            try {
                auto resp = decode_directory_response(DirectoryKind::get_manifest, r.value());
                if (resp.status != DirectoryStatus::ok) return;
                auto m = decode_signed_manifest(resp.manifest);
                std::vector<PublicKey> keys;
                for (const auto& a : plan_.authorities) keys.push_back(a.key);
                ManifestVerifier v(keys, keys.size() / 2 + 1);
                if (v.check(m, sdk::now_ms()) != ManifestCheck::ok) return;
                for (const auto& n : plan_.nodes)
                    if (!m.manifest.find(n.key)) return;
                manifest_ = m.manifest;
                check_nodes();
            } catch (const wire::DecodeError&) {
            }
        });
    }

    // Done when every node serves (at least) that manifest version: clients can start at once.
    void check_nodes() {
        if (call_.finished()) return;
        auto pending = std::make_shared<std::size_t>(plan_.nodes.size());
        auto ready = std::make_shared<std::size_t>(0);
        busy_ = true;
        for (const auto& n : plan_.nodes) {
            auto& c = node_clients_[n.port];
            if (!c) c = std::make_unique<sdk::net::Client>(ctx_.loop(), sdk::net::Endpoint{n.host, n.port});
            auto req = proto::node::encode_request(proto::node::Request{1, proto::node::InfoRequest{}});
            c->request(sdk::transport::encode_service_request(proto::node::kStorageService, req), 2000,
                       [this, pending, ready](sdk::Result<wire::Bytes> r) {
                if (r && info_reaches(r.value(), manifest_.version)) ++*ready;
                if (--*pending > 0) return;
                busy_ = false;
                if (*ready == plan_.nodes.size()) finish_up();
            });
        }
    }

    void finish_up() {
        if (call_.finished()) return;
        std::ofstream(o_.dir / "network.toml") << network_file(plan_);
        std::map<SwarmId, std::size_t> swarms;
        for (const auto& n : manifest_.nodes) ++swarms[n.swarm];
        std::string hosts;
        if (hosts_)
            hosts = "hosts: every process in its own network namespace, addresses " + hosts_->prefix() +
                    ".N.2/24 behind link emulators" + (o_.delay_ms ? " (one-way delay " + std::to_string(*o_.delay_ms) + " ms)" : "") +
                    "; this machine reaches them through the bridge " + hosts_->bridge() + " (" + hosts_->prefix() + ".0.1/16)\n";
        call_.out("testnet up: " + std::to_string(plan_.authorities.size()) + " authorities (first at " +
                  plan_.authorities[0].host + ":" + std::to_string(plan_.authorities[0].port) + "), " +
                  std::to_string(plan_.nodes.size()) + " nodes in " + std::to_string(swarms.size()) +
                  " swarms (manifest version " + std::to_string(manifest_.version) + ")\nnetwork file: " +
                  (o_.dir / "network.toml").string() + "\n" + hosts);
        call_.finish(sdk::exit_code::ok);
    }

    void status() {
        auto pids = read_pids(o_.dir);
        if (pids.empty()) throw std::runtime_error("no test network in " + o_.dir.string());
        int dead = 0;
        std::string out;
        for (const auto& [name, pid] : pids) {
            bool alive = is_testnet_process(pid, o_.dir);
            dead += alive ? 0 : 1;
            out += name + " pid " + std::to_string(pid) + (alive ? " running" : " stopped") + "\n";
        }
        call_.out(out + std::to_string(pids.size() - static_cast<std::size_t>(dead)) + " of " +
                  std::to_string(pids.size()) + " processes running\n");
        call_.finish(dead ? sdk::exit_code::failure : sdk::exit_code::ok);
    }

    // A network that did not come up is stopped at once: a failed `up` leaves nothing running
    // (the logs stay for diagnosis).
    void abort_up(const std::string& message) {
        for (const auto& [name, pid] : read_pids(o_.dir))
            if (is_testnet_process(pid, o_.dir)) ::kill(pid, SIGKILL);
        fs::remove(o_.dir / "testnet.pids");
        HostsNet::remove(o_.dir);
        call_.fail(message, sdk::exit_code::failure);
    }

    void down() {
        auto pids = read_pids(o_.dir);
        for (const auto& [name, pid] : pids)
            if (is_testnet_process(pid, o_.dir)) ::kill(pid, SIGTERM);
        started_ = now();
        ctx_.set_interval(100, [this, pids] {
            if (call_.finished()) return;
            std::size_t left = 0;
            for (const auto& [name, pid] : pids) left += is_testnet_process(pid, o_.dir) ? 1 : 0;
            bool late = now() - started_ > kDownTimeoutMs;
            if (left && !late) return;
            for (const auto& [name, pid] : pids)
                if (is_testnet_process(pid, o_.dir)) ::kill(pid, SIGKILL);
            fs::remove(o_.dir / "testnet.pids");
            auto removed = HostsNet::remove(o_.dir);
            call_.out("testnet down: " + std::to_string(pids.size()) + " processes stopped" +
                      (left ? " (" + std::to_string(left) + " killed after 10 s)" : "") +
                      (removed ? ", " + std::to_string(removed) + " namespaces and links removed" : "") + "\n");
            call_.finish(sdk::exit_code::ok);
        });
    }

    static std::uint64_t now() {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
    }

    sdk::Context& ctx_;
    sdk::CommandCall call_;
    Options o_;
    TestnetPlan plan_;
    Manifest manifest_;
    std::unique_ptr<sdk::net::Client> directory_;
    std::map<std::uint16_t, std::unique_ptr<sdk::net::Client>> node_clients_;
    std::map<std::string, int> pids_;
    std::unique_ptr<HostsNet> hosts_;
    std::map<std::string, std::string> netns_;  ///< --hosts: each process's namespace
    std::map<std::string, std::uintmax_t> log_start_;
    int port_moves_ = 0;
    std::uint64_t started_ = 0;
    bool busy_ = false;
};

class TestnetPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        ctx.add_command(sdk::Command{
            "testnet", "start, inspect or stop a local test network (directory + service nodes)",
            "testnet up --nodes N [--swarm-size K] [--authorities A] [--node-option KEY=VALUE]... "
            "[--authority-option KEY=VALUE]... [--hosts [--delay MS] [--profile FILE]] --dir DIR | "
            "testnet add-host --name NAME --dir DIR | testnet kill|cut|heal --name NAME --dir DIR | "
            "testnet restart --name NAME [--clock-offset SECONDS] --dir DIR | testnet status --dir DIR | testnet down --dir DIR",
            [this, &ctx](sdk::CommandCall call) {
                std::string error;
                auto o = parse(call.args(), error);
                if (!o) return call.fail(error);
                run_ = std::make_unique<TestnetRun>(ctx, std::move(call), std::move(*o));
                run_->run();
            }});
    }
    void stop() override {}

private:
    std::unique_ptr<TestnetRun> run_;
};

constexpr std::string_view kCommands[] = {"testnet"};

constexpr sdk::PluginInfo kInfo{
    .name = "testnet",
    .version = "0.1.0",
    .kind = sdk::PluginKind::other,
    .description = "veil testnet up|status|down: directory authorities and service nodes on loopback",
    .provides = {},
    .requires_ = {},
    .config = {},
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::directory

VEIL_PLUGIN(testnet, veil::directory::kInfo, veil::directory::TestnetPlugin)
