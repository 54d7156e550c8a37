#include "manifest_history.hpp"

#include "veil/proto/manifest_diff.hpp"

namespace veil::node {

using proto::node::ManifestAnswer;
using proto::node::ManifestResponse;

void ManifestHistory::add(std::shared_ptr<const proto::SignedManifest> m, proto::node::Bytes envelope) {
    kept_.push_back(std::move(m));
    if (kept_.size() > kKept) kept_.pop_front();
    envelope_ = std::move(envelope);
    diffs_.clear();  // they led to the previous manifest
}

ManifestResponse ManifestHistory::answer(std::optional<std::uint64_t> held) {
    if (kept_.empty() || !held) return ManifestResponse{envelope_, ManifestAnswer::full, {}};
    const auto& current = *kept_.back();
    if (*held == current.manifest.version) return ManifestResponse{{}, ManifestAnswer::current, {}};
    auto cached = diffs_.find(*held);
    if (cached != diffs_.end()) return ManifestResponse{{}, ManifestAnswer::diff, cached->second};
    for (const auto& old : kept_) {
        if (old->manifest.version != *held || old == kept_.back()) continue;
        auto diff = proto::encode_manifest_diff(proto::make_manifest_diff(old->manifest, current));
        // A diff larger than the manifest saves nothing.
        if (diff.size() >= envelope_.size()) break;
        diffs_.emplace(*held, diff);
        return ManifestResponse{{}, ManifestAnswer::diff, std::move(diff)};
    }
    return ManifestResponse{envelope_, ManifestAnswer::full, {}};
}

}  // namespace veil::node
