// The web plugin on a real bus and loop: it serves (and writes HOME/web/url) only for a
// resident client, stays idle on one-shot commands, and refuses a non-loopback address.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>


#include "support/process.hpp"
#include "veil/sdk/plugin.hpp"
#include "veil/sdk/testing.hpp"

extern "C" const veil::sdk::PluginDescriptor* veil_static_plugin_web();

using namespace veil;
namespace fs = std::filesystem;

namespace {

// Starts the plugin as the kernel would for `invocation`; returns start()'s error ("" if none).
std::string start_plugin(const fs::path& home, std::optional<std::vector<std::string>> invocation,
                         const std::string& listen = "127.0.0.1:0") {
    std::string error;
    sdk::testing::Harness harness(home, std::move(invocation));
    try {
        harness.start(*veil_static_plugin_web(), {{"listen", listen}});
        harness.run_for(20);
    } catch (const std::exception& e) {
        error = e.what();
    }
    CHECK(harness.close() == 0);
    return error;
}

}  // namespace

TEST_CASE("web - the plugin serves for 'veil daemon' and writes the login URL (0600)", "[web]") {
    veil::test::TempDir home;
    REQUIRE(start_plugin(home.path(), std::vector<std::string>{"daemon"}).empty());
    auto url_file = home.path() / "web" / "url";
    REQUIRE(fs::exists(url_file));
    auto url = veil::test::read_file(url_file);
    // http://127.0.0.1:PORT/login?token=<64 lower-case hex>\n (std::regex trips GCC 12's
    // -Wmaybe-uninitialized under ASan, so by hand).
    const std::string prefix = "http://127.0.0.1:";
    REQUIRE(url.rfind(prefix, 0) == 0);
    auto slash = url.find("/login?token=", prefix.size());
    REQUIRE(slash != std::string::npos);
    auto port = url.substr(prefix.size(), slash - prefix.size());
    CHECK(!port.empty());
    CHECK(port.find_first_not_of("0123456789") == std::string::npos);
    auto token = url.substr(slash + 13);
    CHECK(token.size() == 65);
    CHECK(token.back() == '\n');
    CHECK(token.find_first_not_of("0123456789abcdef") == 64);
    struct stat st{};
    REQUIRE(::stat(url_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(url_file.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("web - the plugin serves in a foreground run without a command", "[web]") {
    veil::test::TempDir home;
    REQUIRE(start_plugin(home.path(), std::nullopt).empty());
    CHECK(fs::exists(home.path() / "web" / "url"));
}

TEST_CASE("web - the plugin stays idle on one-shot commands", "[web]") {
    veil::test::TempDir home;
    REQUIRE(start_plugin(home.path(), std::vector<std::string>{"send", "05ab", "hi"}).empty());
    CHECK_FALSE(fs::exists(home.path() / "web"));
}

TEST_CASE("web - the plugin refuses to listen beyond loopback", "[web]") {
    veil::test::TempDir home;
    auto error = start_plugin(home.path(), std::vector<std::string>{"daemon"}, "0.0.0.0:0");
    CHECK(error.find("not a loopback") != std::string::npos);
    CHECK_FALSE(fs::exists(home.path() / "web" / "url"));
}

namespace {
std::string port_of(const fs::path& home) { return veil::test::read_file(home / "web" / "port"); }
}  // namespace

TEST_CASE("web - a restart keeps the port when it is free and takes another when not", "[web]") {
    veil::test::TempDir home;
    REQUIRE(start_plugin(home.path(), std::vector<std::string>{"daemon"}).empty());
    auto first = port_of(home.path());
    REQUIRE(start_plugin(home.path(), std::vector<std::string>{"daemon"}).empty());
    CHECK(port_of(home.path()) == first);
    CHECK(veil::test::read_file(home.path() / "web" / "url").find(":" + first.substr(0, first.size() - 1) + "/") !=
          std::string::npos);

    // Someone else listens there now: the plugin starts on a new port instead of failing.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(first)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    REQUIRE(start_plugin(home.path(), std::vector<std::string>{"daemon"}).empty());
    CHECK(port_of(home.path()) != first);
    ::close(fd);
}
