#pragma once
// Helpers of the messenger integration tests: people made with `veil init`, a look into their
// swarm with direct node RPCs, and an interactive process driven through pipes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "account.hpp"
#include "support/node_rpc.hpp"
#include "support/person.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"
#include "vault.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::test::messenger_helpers {

namespace fs = std::filesystem;
using veil::test::Testnet;

using veil::test::Person;

// The person's device account, read from the encrypted database with its key file (as only
// the owner of HOME could): the test uses the device key to look into the swarm itself.
inline messenger::Account account_of(const Person& p) {
    auto vault = sqlcipher::Vault::open(p.home / "veil.db", nullptr);
    auto scan = vault->db().scan(messenger::kStorageNs, messenger::kStatePrefix, 100);
    return messenger::Account::load(scan.entries);
}

// Direct RPC to one node (as the node tests do): how many messages a mailbox holds there.
using Rpc = veil::test::NodeRpc;

// The items of the account's inbox on every member of its swarm (nullopt where a node did not answer).
inline std::vector<std::optional<std::vector<proto::node::MessageItem>>> inbox_pages(const Person& p,
                                                                                      const messenger::Account& account,
                                                                                      Rpc& rpc) {
    auto manifest = proto::decode_signed_manifest(
                        veil::wire::Bytes([&] {
                            auto s = veil::test::slurp(p.home / "network" / "manifest.bin");
                            return veil::wire::Bytes(s.begin(), s.end());
                        }()))
                        .manifest;
    std::vector<std::optional<std::vector<proto::node::MessageItem>>> pages;
    static std::uint64_t skew = 0;  // distinct timestamps: no two requests look like a replay
    for (const auto& member : manifest.members(manifest.swarm_for(account.inbox()))) {
        auto r = rpc.call(member.port, account.inbox_request(std::nullopt, veil::test::now_ms() + ++skew));
        if (!r || r->status != proto::node::Status::ok) {
            pages.emplace_back();
            continue;
        }
        pages.emplace_back(std::get<proto::node::PageResponse>(r->body).messages);
    }
    return pages;
}

// Messages in the account's inbox on every member of its swarm (-1 where a node did not answer).
inline std::vector<int> inbox_counts(const Testnet& net, const Person& p, const messenger::Account& account, Rpc& rpc) {
    (void)net;
    std::vector<int> counts;
    for (const auto& page : inbox_pages(p, account, rpc)) counts.push_back(page ? static_cast<int>(page->size()) : -1);
    return counts;
}

// Waits (bounded) until every member holds `n` messages; returns the last counts.
inline std::vector<int> wait_counts(const Testnet& net, const Person& p, const messenger::Account& a, Rpc& rpc, int n) {
    std::vector<int> c;
    for (int i = 0; i < 100; ++i) {
        c = inbox_counts(net, p, a, rpc);
        if (!c.empty() && std::all_of(c.begin(), c.end(), [n](int x) { return x == n; })) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return c;
}

inline bool file_contains(const fs::path& file, const std::string& needle) {
    auto text = veil::test::slurp(file);
    return text.find(needle) != std::string::npos;
}


// The JSON lines of a receive, as (from, text) pairs.
inline std::vector<std::pair<std::string, std::string>> received(const veil::test::ProcessResult& r) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        out.emplace_back(j["from"].get<std::string>(), j["text"].get<std::string>());
    }
    return out;
}


// The message records in a person's database, read as only the owner of HOME could (retried
// while another process holds a write lock).
inline std::vector<messenger::MessageRecord> records_of(const Person& p) {
    for (int attempt = 0;; ++attempt) {
        try {
            auto vault = sqlcipher::Vault::open(p.home / "veil.db", nullptr);
            std::vector<messenger::MessageRecord> out;
            for (const auto& e : vault->db().scan(messenger::kStorageNs, messenger::kMessagePrefix, 100000).entries) {
                out.push_back(messenger::decode_record(e.value));
            }
            return out;
        } catch (const std::exception&) {
            if (attempt >= 50) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

// Polls `pred` every 100 ms for at most timeout_ms; true once it held.
template <class Pred>
bool eventually(Pred pred, int timeout_ms) {
    auto deadline = veil::test::now_ms() + static_cast<std::uint64_t>(timeout_ms);
    while (veil::test::now_ms() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
}

using veil::test::Interactive;

}  // namespace veil::test::messenger_helpers
