// The shared log sink: at info and above no Veil ID or key reaches stderr (DESIGN.md §1), also
// when a message quotes an error that names one; debug, asked for on purpose, keeps them.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "veil/sdk/log.hpp"

namespace {

// Runs `f` with stderr sent to a file; returns what was written.
template <class F>
std::string captured_stderr(F f) {
    char path[] = "/tmp/veil-log-test-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    std::fflush(stderr);
    int saved = ::dup(STDERR_FILENO);
    ::dup2(fd, STDERR_FILENO);
    f();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fd);
    std::ifstream in(path);
    std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ::unlink(path);
    return out;
}

}  // namespace

TEST_CASE("log - no Veil ID or key reaches stderr at info and above; debug keeps them", "[sdk][log]") {
    const std::string id = "05" + std::string(64, 'a');
    const std::string key = std::string(32, 'b') + std::string(32, 'C');
    const std::string message_id = std::string(32, 'd');  // 32 hex: a message id, not a person
    auto logger = veil::sdk::log::get("log-test");
    veil::sdk::log::set_level("log-test", spdlog::level::debug);
    auto out = captured_stderr([&] {
        logger->warn("a queued message was dropped: no device list is published for {} (is the ID right?)", id);
        logger->info("key {} and message {}", key, message_id);
        logger->debug("debug names {}", id);
        logger->flush();
    });
    INFO(out);
    CHECK(out.find("no device list is published for [redacted] (is the ID right?)") != std::string::npos);
    CHECK(out.find("key [redacted] and message " + message_id) != std::string::npos);
    CHECK(out.find("debug names " + id) != std::string::npos);
    CHECK(out.find(id + " (is") == std::string::npos);
    CHECK(out.find(key) == std::string::npos);
}
