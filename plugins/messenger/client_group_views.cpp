// Closed groups as frontends see them: a group is a conversation (its ID as the peer), its
// messages are kept like one-to-one messages (under the group's own key prefix), and the bus
// contract's group requests are answered from the book (docs/groups.md, "From every frontend").
#include <algorithm>

#include "client.hpp"

namespace veil::messenger {
namespace {

namespace sm = sdk::messenger;

}  // namespace

std::vector<sm::Conversation> Client::conversations() const {
    auto out = model_.conversations();
    for (const auto& g : groups_->groups()) out.push_back(conversation(g));
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last_at_ms > b.last_at_ms; });
    return out;
}

sm::Conversation Client::conversation(const crypto::GroupId& group) const {
    auto v = model_.conversation(group);
    if (const auto* s = groups_->state(group)) v.name = s->name();
    v.request = groups_->is_request(group);
    return v;
}

sm::Group Client::group_view(const crypto::GroupId& group) const {
    sm::Group v;
    v.id = crypto::group_id_str(group);
    const auto* s = groups_->state(group);
    if (s == nullptr) return v;
    v.name = s->name();
    v.admin = s->is_admin(account_->id());
    v.request = groups_->is_request(group);
    v.version = s->version();
    for (const auto& m : s->members()) v.members.push_back({m.id.str(), m.role == crypto::GroupRole::admin});
    return v;
}

void Client::mark_read(const crypto::GroupId& group, std::function<void()> done, Fail fail) {
    save_read_marks(model_.mark_read(group), [this, group] { return conversation(group); }, std::move(done), std::move(fail));
}

void Client::publish_groups() {
    for (const auto& g : groups_->groups()) publish_group(g);
}

void Client::publish_group(const crypto::GroupId& group) {
    ctx_.bus().publish(sm::ConversationUpdated{conversation(group)});
}

}  // namespace veil::messenger
