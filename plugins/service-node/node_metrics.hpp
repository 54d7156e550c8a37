#pragma once
/// What the node counts for its operator (docs/service-node.md §Metrics): requests answered by
/// method, refusals by reason, requests in flight, replication and catch-up; the families the
/// metrics endpoint serves, and the summary `veil node status` prints from a scrape. Counts and
/// levels only: never an address, a mailbox, a namespace or a key. Loop thread only.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "veil/sdk/metrics.hpp"
#include "veil/sdk/net.hpp"

namespace veil::node {

/// What the runtime counts as it goes.
struct NodeCounters {
    std::map<std::uint8_t, std::uint64_t> served;   ///< by method byte: answered ok
    std::map<std::uint8_t, std::uint64_t> refused;  ///< by status byte: answered with an error
    std::uint64_t in_flight = 0;                    ///< received and not answered yet
    std::uint64_t replication_sent = 0;             ///< pushes to swarm members
    std::uint64_t replication_failed = 0;           ///< of which not acknowledged ok
    std::uint64_t replication_pending = 0;          ///< sent and not answered yet
    std::uint64_t catch_up_rounds = 0;              ///< rounds finished
    std::uint64_t catch_up_fetched = 0;             ///< messages this node lacked and fetched
    std::optional<std::uint64_t> caught_up_ms;      ///< when the last round finished

    /// A request came in.
    void begin() { ++in_flight; }
    /// Its answer (a response whose method and status bytes were peeked) went out.
    void end(std::uint8_t method, std::uint8_t status);
};

/// Levels read when the node is scraped.
struct NodeLevels {
    std::uint64_t parked_subscribes = 0;
    std::uint64_t connections = 0;
    std::uint64_t database_file_bytes = 0;  ///< the database, its WAL and shared memory on disk
    std::uint64_t stored_bytes = 0;         ///< what max_stored_bytes caps
    std::uint64_t max_stored_bytes = 0;
    std::uint64_t rows = 0;                 ///< messages and tombstones
    std::uint64_t manifest_version = 0;
    std::uint64_t swarm_peers = 0;          ///< other members of its swarm
    sdk::net::ServerStats doors;
};

/// The method byte of an encoded node RPC request and the status byte of an encoded response
/// (veil/proto/node_rpc.hpp: `u8 version | u8 method | u32 id` and `u8 version | u32 id | u8
/// status`), read without decoding for counting; 0 when the bytes are short.
std::uint8_t method_byte(const std::vector<std::uint8_t>& request);
std::uint8_t status_byte(const std::vector<std::uint8_t>& response);

/// The node's families for the metrics endpoint.
std::vector<sdk::metrics::Family> node_families(const NodeCounters& counters, const NodeLevels& levels,
                                                std::uint64_t now_ms);

/// The human summary of a scrape (every family the node and its onion relay serve).
std::string status_text(const std::vector<sdk::metrics::Reading>& readings);

}  // namespace veil::node
