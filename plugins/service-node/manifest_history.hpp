#pragma once
/// The last few manifests a node accepted, so that it can answer a client's get_manifest with
/// "current" or a diff from the version the client holds instead of the whole manifest
/// (docs/admission.md §Refreshes). Not thread-safe: StorageService guards it.

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "veil/proto/node_rpc.hpp"

namespace veil::node {

class ManifestHistory final {
public:
    /// Manifests kept for diffs: a client more versions behind gets the whole manifest.
    static constexpr std::size_t kKept = 8;

    /// A newly accepted manifest and its exact envelope.
    void add(std::shared_ptr<const proto::SignedManifest> m, proto::node::Bytes envelope);
    /// The answer for a client holding `held` (none: it asks for the whole manifest).
    [[nodiscard]] proto::node::ManifestResponse answer(std::optional<std::uint64_t> held);

private:
    std::deque<std::shared_ptr<const proto::SignedManifest>> kept_;  // oldest first; back is current
    proto::node::Bytes envelope_;                                    // of the current one
    std::map<std::uint64_t, proto::node::Bytes> diffs_;              // encoded, by base version
};

}  // namespace veil::node
