#include "swarm_store.hpp"

#include <algorithm>

namespace veil::messenger {

namespace node = proto::node;

StoreVerdict judge_store(const std::vector<node::Response>& answers, std::uint64_t max_work, std::size_t members) {
    // A member still starting (no manifest yet) counts as one that did not answer: it decides
    // nothing, as silence would (a hostile member gains nothing it could not get by silence).
    const auto starting = static_cast<std::size_t>(
        std::count_if(answers.begin(), answers.end(), [](const node::Response& a) { return a.status == node::Status::not_ready; }));
    const std::size_t of_answered = (answers.size() - starting) / 2 + 1;
    const std::size_t needed = members > 0 ? members / 2 + 1 : of_answered;
    std::size_t stored = 0;
    std::vector<std::uint64_t> prices;  // of the members asking work we are willing to do
    StoreVerdict v;
    for (const auto& a : answers) {
        if (a.status == node::Status::ok) {
            ++stored;
            continue;
        }
        v.reason = &a;
        if (const auto* w = std::get_if<node::WorkRequiredResponse>(&a.body); w && w->work <= max_work)
            prices.push_back(w->work);
    }
    if (stored >= needed) return {StoreVerdict::Kind::stored, 0, nullptr, stored};
    v.stored = stored;
    // The cheapest members that make up the majority set the price; a dearer one is ignored.
    // Paid first when paying settles it, rather than leaving it unsettled.
    const std::size_t missing = needed - stored;
    if (prices.size() >= missing) {
        std::sort(prices.begin(), prices.end());
        v.kind = StoreVerdict::Kind::pay;
        v.work = prices[missing - 1];
        return v;
    }
    // Members down: what most of those that answered hold stands for now (a 2-member swarm with
    // one down still takes a revocation); the caller stores it again until it settles.
    if (members > 0 && stored >= of_answered) return {StoreVerdict::Kind::taken, 0, nullptr, stored};
    return v;
}

}  // namespace veil::messenger
