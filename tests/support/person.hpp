#pragma once
// One person's client on a test network, made with `veil init`: HOME inside the testnet
// directory, the Veil ID and recovery phrase it printed. For integration tests.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/testnet_fixture.hpp"
#include "support/veil_id.hpp"

namespace veil::test {

struct Person {
    std::filesystem::path home;
    std::string id, phrase;

    /// A new identity in NET_DIR/name.
    Person(const Testnet& net, const std::string& name) : home(net.dir() / name) {
        auto r = run_veil({"init", "--home", home.string(), "--network", (net.dir() / "network.toml").string()}, {},
                          60000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        id = veil_id_in(r.out);
        REQUIRE(id.size() == 66);
        phrase = recovery_phrase_in(r.out);
        REQUIRE(!phrase.empty());
    }
    /// Another device of `first`, restored from its recovery phrase (read on stdin).
    Person(const Testnet& net, const std::string& name, const Person& first) : home(net.dir() / name) {
        std::string cmd = "printf '%s\\n' '" + first.phrase + "' | '" + veil_exe() + "' init --home '" + home.string() +
                          "' --network '" + (net.dir() / "network.toml").string() + "' --restore";
        auto r = veil::test::run({"/bin/sh", "-c", cmd}, {}, 60000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        id = veil_id_in(r.out);
        REQUIRE(id.size() == 66);
        CHECK(r.out.find("added") != std::string::npos);
    }
    /// `veil --home HOME args...`.
    ProcessResult run(const std::vector<std::string>& args, int timeout_ms = 60000) const {
        std::vector<std::string> all{"--home", home.string()};
        all.insert(all.end(), args.begin(), args.end());
        return run_veil(all, {}, timeout_ms);
    }
};

}  // namespace veil::test
