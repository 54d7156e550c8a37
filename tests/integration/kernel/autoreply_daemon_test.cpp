// The out-of-tree autoreply bot (sdk/examples/autoreply-bot, built by the ctest fixture
// kernel_autoreply_build against the installed SDK) runs in Bob's `veil daemon` on a 9-node onion
// testnet; Alice, a stranger to Bob, sends from the CLI and receives the auto reply.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/person.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"

using veil::test::Testnet;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A person made with `veil init` on the testnet (support/person.hpp) who can run the bot.
struct Person : veil::test::Person {
    using veil::test::Person::Person;
    // Adds the bot to kernel.plugins, its directory to kernel.plugin_dirs, and its table.
    void enable_autoreply(const std::string& reply) const {
        auto text = veil::test::read_file(home / "veil.toml");
        std::smatch m;
        REQUIRE(std::regex_search(text, m, std::regex("plugins = \\[([^\\]]*)\\]")));
        std::string list = m[1];
        while (!list.empty() && list.back() == ' ') list.pop_back();
        std::string with = "plugins = [" + list + ", \"autoreply\"]\nplugin_dirs = [\"" VEIL_AUTOREPLY_DIR "\"]";
        text.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)), with);
        text += "\n[autoreply]\nreply = \"" + reply + "\"\n";
        std::ofstream(home / "veil.toml", std::ios::trunc) << text;
    }
};

}  // namespace

TEST_CASE("autoreply - the out-of-tree bot answers a CLI user under veil daemon on a testnet", "[kernel][integration]") {
    Testnet net(9, 3);
    Person alice(net, "alice");
    Person bob(net, "bob");
    bob.enable_autoreply("Bob's bot: back soon");
    // A one-shot command on Bob's HOME still works with the bot enabled (it stays idle).
    auto id = bob.run({"id"});
    INFO(id.err);
    REQUIRE(id.exit_code == 0);

    auto log = net.dir() / "bob-daemon.log";
    veil::test::Background daemon({"--home", bob.home.string(), "daemon"}, log.string());
    REQUIRE(veil::test::wait_for_text(log, "veil daemon: " + bob.id + " online", 60000));
    INFO(veil::test::read_file(log));

    auto sent = alice.run({"send", bob.id, "hello bot"});
    INFO(sent.err);
    REQUIRE(sent.exit_code == 0);
    std::vector<json> got;
    for (int attempt = 0; attempt < 6 && got.empty(); ++attempt) {
        auto r = alice.run({"receive", "--wait", "15", "--json"}, 60000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0]["from"] == bob.id);
    CHECK(got[0]["text"] == "Bob's bot: back soon");
}
