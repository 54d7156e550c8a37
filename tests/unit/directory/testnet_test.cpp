#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "veil/proto/directory_rpc.hpp"
#include "testnet.hpp"
#include "testnet_faults.hpp"
#include "veil/wire/codec.hpp"

using namespace veil::directory;

namespace {
TestnetPlan plan() {
    TestnetPlan p;
    p.dir = "/tmp/tn";
    p.swarm_size = 3;
    for (std::uint16_t i = 1; i <= 3; ++i) {
        auto name = "authority-" + std::to_string(i);
        p.authorities.push_back({name, "/tmp/tn/" + name + "/veil.toml", "/tmp/tn/" + name + "/veil.log",
                                 static_cast<std::uint16_t>(7000 - i), PublicKey{}});
        p.authorities.back().key.fill(static_cast<std::uint8_t>(0xa0 + i));
    }
    p.nodes.push_back({"node-1", "/tmp/tn/node-1/veil.toml", "/tmp/tn/node-1/veil.log", 7001, PublicKey{}});
    p.nodes.push_back({"node-2", "/tmp/tn/node-2/veil.toml", "/tmp/tn/node-2/veil.log", 7002, PublicKey{}});
    return p;
}
}  // namespace

TEST_CASE("testnet - configs name the right plugins, ports, keys and homes", "[node][testnet]") {
    auto p = plan();
    auto a = authority_config(p, 1);
    CHECK_THAT(a, Catch::Contains("plugins = [\"directory\"]"));
    CHECK_THAT(a, Catch::Contains("listen = \"127.0.0.1:6998\""));
    CHECK_THAT(a, Catch::Contains("authorities = [\"127.0.0.1:6999\", \"127.0.0.1:6998\", \"127.0.0.1:6997\"]"));
    CHECK_THAT(a, Catch::Contains("authority_threshold = 2\n"));
    CHECK_THAT(a, Catch::Contains("test_network = true\n"));
    CHECK_THAT(a, Catch::Contains("target_swarm_size = 3"));
    CHECK_THAT(a, Catch::Contains("home = \"/tmp/tn/authority-2\""));
    // --authority-option replaces the default for its key.
    p.authority_options = {"validity_ms=5000"};
    CHECK_THAT(authority_config(p, 0), Catch::Contains("validity_ms = 5000\n"));
    CHECK_THAT(authority_config(p, 0), !Catch::Contains("validity_ms = 60000"));
    auto n = node_config(p, 1);
    CHECK_THAT(n, Catch::Contains("plugins = [\"service-node\", \"onion-relay\", \"attachment-store\"]"));
    CHECK_THAT(n, Catch::Contains("listen = \"127.0.0.1:7002\""));
    CHECK_THAT(n, Catch::Contains("directories = [\"127.0.0.1:6999\", \"127.0.0.1:6998\", \"127.0.0.1:6997\"]"));
    CHECK_THAT(n, Catch::Contains("authority_threshold = 2\n"));
    CHECK_THAT(n, Catch::Contains("authority_keys = [\""));
    for (const auto& auth : p.authorities) CHECK_THAT(n, Catch::Contains(veil::wire::to_hex(auth.key)));
    CHECK_THAT(n, Catch::Contains("loopback_per_connection = true\n"));  // every process shares 127.0.0.1
    CHECK_THROWS(node_config(p, 2));
    // --node-option: "plugin.key=value" goes to that plugin's table, the rest to [service-node].
    p.node_options = {"onion-relay.trace=true", "requests_per_second=1e6", "attachment-store.expiry_ms=5000"};
    n = node_config(p, 0);
    CHECK_THAT(n, Catch::Contains("sweep_ms = 5000\nrequests_per_second = 1e6\n"));
    CHECK_THAT(n, Catch::Contains("[onion-relay]\ntrace = true\n"));
    CHECK_THAT(n, Catch::Contains("[attachment-store]\nsweep_ms = 1000\ncatch_up_ms = 3000\nexpiry_ms = 5000\n"));
    p.node_options = {"loopback_per_connection=false"};  // a test playing many 127.x sources
    n = node_config(p, 0);
    CHECK_THAT(n, Catch::Contains("loopback_per_connection = false\n"));
    CHECK_THAT(n, !Catch::Contains("loopback_per_connection = true"));
    // An option replaces the test network's default for its key (TOML refuses a key twice).
    p.node_options = {"catch_up_ms=600000", "attachment-store.sweep_ms=7"};
    n = node_config(p, 0);
    CHECK_THAT(n, Catch::Contains("catch_up_ms = 600000\nsweep_ms = 5000\n"));
    CHECK_THAT(n, !Catch::Contains("catch_up_ms = 5000"));
    CHECK_THAT(n, Catch::Contains("[attachment-store]\nsweep_ms = 7\ncatch_up_ms = 3000\n"));
    auto net = network_file(p);
    CHECK_THAT(net, Catch::Contains("seed_nodes = [\"127.0.0.1:7001\", \"127.0.0.1:7002\"]"));
    CHECK_THAT(net, Catch::Contains("authority_threshold = 2"));
    CHECK_THAT(net, Catch::Contains("max_nodes_per_block = 0\n"));
}

TEST_CASE("testnet - pid files and process checks", "[node][testnet]") {
    auto dir = std::filesystem::temp_directory_path() / ("veil-node-testnet-unit-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    CHECK(read_pids(dir).empty());
    std::ofstream(dir / "testnet.pids") << "authority 1\nnode-1 " << ::getpid() << "\n";
    auto pids = read_pids(dir);
    REQUIRE(pids.size() == 2);
    CHECK(pids[1].first == "node-1");
    // This test process is alive but its command line does not name the directory.
    CHECK_FALSE(is_testnet_process(::getpid(), dir));
    CHECK_FALSE(is_testnet_process(0, dir));
    CHECK(free_loopback_port() != 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("testnet - a child has exited only once it is gone or a zombie", "[node][testnet]") {
    CHECK_FALSE(process_exited(::getpid()));
    CHECK(process_exited(0));
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    CHECK_FALSE(process_exited(child));
    ::kill(child, SIGKILL);
    // Not reaped yet: a zombie, whose command line reads empty like that of a process in execve.
    for (int i = 0; i < 500 && !process_exited(child); ++i) ::usleep(2'000);
    CHECK(process_exited(child));
    int status = 0;
    CHECK(::waitpid(child, &status, 0) == child);
    CHECK(process_exited(child));
}

TEST_CASE("testnet - VEIL_EMULATOR runs the processes it starts through the emulator", "[node][testnet]") {
    auto dir = std::filesystem::temp_directory_path() / ("veil-node-testnet-emulator-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // A stand-in for qemu-user: writes the arguments it was given, one a line.
    const auto wrapper = dir / "emulator.sh";
    std::ofstream(wrapper) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv.txt\"\n";
    std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
    const char* before = std::getenv("VEIL_EMULATOR");
    const std::string saved = before ? before : "";
    const std::vector<std::string> program{"/bin/echo", "--config", "node.toml"};

    ::unsetenv("VEIL_EMULATOR");
    CHECK(emulated(program) == program);
    // The first word is found on PATH ("sh"), the others come first, in order.
    ::setenv("VEIL_EMULATOR", ("sh " + wrapper.string() + " -L /usr/aarch64-linux-gnu").c_str(), 1);
    CHECK(emulated(program) == std::vector<std::string>{"sh", wrapper.string(), "-L", "/usr/aarch64-linux-gnu", "/bin/echo",
                                                        "--config", "node.toml"});
    const int pid = spawn(program, dir / "log.txt");
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::ifstream in(dir / "argv.txt");
    std::stringstream got;
    got << in.rdbuf();
    CHECK(got.str() == "-L\n/usr/aarch64-linux-gnu\n/bin/echo\n--config\nnode.toml\n");

    if (before) ::setenv("VEIL_EMULATOR", saved.c_str(), 1);
    else ::unsetenv("VEIL_EMULATOR");
    std::filesystem::remove_all(dir);
}

TEST_CASE("testnet - directory RPC round-trips and refuses malformed bytes", "[node][testnet]") {
    DirectoryRequest reg{DirectoryKind::register_node, {1, 2, 3}, {}};
    auto back = decode_directory_request(encode_directory_request(reg));
    CHECK(back.kind == DirectoryKind::register_node);
    CHECK(back.descriptor == reg.descriptor);
    auto ok = decode_directory_response(DirectoryKind::get_manifest,
                                        encode_directory_response(DirectoryKind::get_manifest, {DirectoryStatus::ok, {9}, {}}));
    CHECK(ok.manifest == veil::wire::Bytes{9});
    auto refused = decode_directory_response(
        DirectoryKind::register_node, encode_directory_response(DirectoryKind::register_node, {DirectoryStatus::refused, {}, "no"}));
    CHECK(refused.message == "no");
    CHECK_THROWS_AS(decode_directory_request(veil::wire::Bytes{1, 9}), veil::wire::DecodeError);
    CHECK_THROWS_AS(decode_directory_response(DirectoryKind::get_manifest, veil::wire::Bytes{7}), veil::wire::DecodeError);
}
