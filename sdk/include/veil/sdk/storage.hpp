#pragma once
/// The storage contract: namespaced key/value with put, get, erase, scan-by-prefix and an
/// atomic batch. storage/sqlcipher (encrypted, on disk) and storage/memory implement it.
///
/// Two faces of one contract:
///  - the bus messages below (a plugin needing storage sends them; the enabled backend serves
///    them after calling serve_storage()), answers on the loop thread;
///  - the Backend interface a storage plugin implements; its completions must run on the loop
///    thread (use Context::run_blocking for disk work).
/// Keys and namespaces are binary-safe strings; values are bytes. A missing key is not an error.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veil/sdk/bus.hpp"
#include "veil/sdk/export.hpp"
#include "veil/sdk/result.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sdk {
class Context;
}

namespace veil::sdk::storage {

using Bytes = wire::Bytes;

/// Reply of a write: success carries nothing.
struct Done {};

/// One key/value pair.
struct Entry {
    std::string key;
    Bytes value;
};

/// Command: store value at (ns, key), replacing any previous value.
struct Put {
    static constexpr std::string_view topic = "veil.storage.put";
    using Reply = Done;
    std::string ns, key;
    Bytes value;
};

/// Reply of Get: the value, or nothing if absent.
struct GetReply {
    std::optional<Bytes> value;
};

/// Command: read (ns, key).
struct Get {
    static constexpr std::string_view topic = "veil.storage.get";
    using Reply = GetReply;
    std::string ns, key;
};

/// Command: remove (ns, key); absent keys are fine.
struct Erase {
    static constexpr std::string_view topic = "veil.storage.erase";
    using Reply = Done;
    std::string ns, key;
};

/// Reply of Scan: entries in ascending key order.
struct ScanReply {
    std::vector<Entry> entries;
    bool truncated = false;  ///< more entries matched than `limit`
};

/// Command: every entry of `ns` whose key starts with `prefix` (ascending, at most `limit`).
struct Scan {
    static constexpr std::string_view topic = "veil.storage.scan";
    using Reply = ScanReply;
    std::string ns, prefix;
    std::size_t limit = 1000;
};

/// One operation of a batch. Zero is never a valid kind.
struct BatchOp {
    enum class Kind : std::uint8_t { put = 1, erase = 2 };
    Kind kind = Kind::put;
    std::string ns, key;
    Bytes value;  ///< for put
};

/// Command: apply every op or none.
struct Batch {
    static constexpr std::string_view topic = "veil.storage.batch";
    using Reply = Done;
    std::vector<BatchOp> ops;
};

/// What a storage plugin implements. Loop thread only; each callback exactly once, on the loop
/// thread (possibly before the call returns).
class VEIL_SDK_API Backend {
public:
    Backend() = default;
    virtual ~Backend();
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;

    virtual void put(const Put& op, std::function<void(Result<Done>)> done) = 0;
    virtual void get(const Get& op, std::function<void(Result<GetReply>)> done) = 0;
    virtual void erase(const Erase& op, std::function<void(Result<Done>)> done) = 0;
    virtual void scan(const Scan& op, std::function<void(Result<ScanReply>)> done) = 0;
    virtual void batch(const Batch& op, std::function<void(Result<Done>)> done) = 0;
};

/// Serves the five storage requests from `backend` for the lifetime of `ctx`.
/// `backend` must outlive ctx's subscriptions (i.e. live until the plugin's stop()).
VEIL_SDK_API void serve_storage(Context& ctx, Backend& backend);

}  // namespace veil::sdk::storage
