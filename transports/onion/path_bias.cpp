#include "path_bias.hpp"

#include <algorithm>

namespace veil::onion {

bool PathBias::record(const Key32& guard, std::vector<Key32> beyond, bool verified) {
    auto& history = history_[guard];
    history.push_back({std::move(beyond), verified});
    if (history.size() > options_.window) history.pop_front();
    if (verified) return false;
    auto unverified = static_cast<std::size_t>(
        std::count_if(history.begin(), history.end(), [](const Outcome& o) { return !o.verified; }));
    if (unverified < options_.threshold || one_node_explains(history)) return false;
    history_.erase(guard);
    return true;
}

// True when one node beyond the guard was on every unverified attempt: that node alone may
// have garbled or held them all, so they say nothing about the guard.
bool PathBias::one_node_explains(const std::deque<Outcome>& history) const {
    const Outcome* first = nullptr;
    for (const auto& o : history) {
        if (!o.verified) {
            first = &o;
            break;
        }
    }
    if (first == nullptr) return false;
    return std::any_of(first->beyond.begin(), first->beyond.end(), [&](const Key32& suspect) {
        return std::all_of(history.begin(), history.end(), [&](const Outcome& o) {
            return o.verified || std::find(o.beyond.begin(), o.beyond.end(), suspect) != o.beyond.end();
        });
    });
}

}  // namespace veil::onion
