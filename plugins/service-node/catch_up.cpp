#include "catch_up.hpp"

#include <map>

namespace veil::node {

CatchUpPlan plan_catch_up(const std::vector<MessageState>& local, const std::vector<ReplicaOp>& remote) {
    std::map<Hash, const MessageState*> mine;
    for (const auto& s : local) mine[s.hash] = &s;
    CatchUpPlan plan;
    for (const auto& op : remote) {
        const MessageState& r = op.state;
        auto it = mine.find(r.hash);
        if (it == mine.end()) {
            if (!r.deleted) plan.fetch.push_back(r.hash);
            else if (op.proof) plan.merge.push_back(op);
            continue;
        }
        // Only a proof can delete or shorten; the merge checks it.
        const MessageState& l = *it->second;
        if (op.proof && ((r.deleted && !l.deleted) || r.expiry_ms < l.expiry_ms)) plan.merge.push_back(op);
    }
    return plan;
}

}  // namespace veil::node
