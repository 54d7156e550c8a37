// The RPC methods over the messenger contract (see methods.hpp).
#include "methods.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

#include "veil/json/contract_json.hpp"
#include "veil/sdk/messenger.hpp"

namespace veil::rpc {

namespace msg = sdk::messenger;
using contract_json::to_json;

namespace {

// A params problem, turned into -32602 by run_method.
struct ParamError final : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Named params of one call, checked key by key; unknown keys are errors (typos surface).
class Params final {
public:
    Params(const json& params, std::initializer_list<std::string_view> allowed) {
        if (params.is_null()) return;
        if (!params.is_object()) throw ParamError("params must be an object (by name)");
        for (const auto& [key, _] : params.items()) {
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
                throw ParamError("unknown param \"" + key + "\"");
            }
        }
        p_ = &params;  // borrowed, not copied: the call outlives this check
    }
    std::string str(const char* key, bool required = true, std::string fallback = {}) const {
        const json* v = find(key, required);
        if (v == nullptr) return fallback;
        if (!v->is_string()) throw ParamError(std::string("\"") + key + "\" must be a string");
        return v->get<std::string>();
    }
    bool boolean(const char* key, bool required = true, bool fallback = false) const {
        const json* v = find(key, required);
        if (v == nullptr) return fallback;
        if (!v->is_boolean()) throw ParamError(std::string("\"") + key + "\" must be true or false");
        return v->get<bool>();
    }
    /// A non-empty array of strings (at most `max`).
    std::vector<std::string> strings(const char* key, std::size_t max) const {
        const json* v = find(key, true);
        if (!v->is_array() || v->empty()) throw ParamError(std::string("\"") + key + "\" must be a non-empty array of strings");
        if (v->size() > max) throw ParamError(std::string("\"") + key + "\" has more than " + std::to_string(max) + " items");
        std::vector<std::string> out;
        for (const auto& item : *v) {
            if (!item.is_string()) throw ParamError(std::string("\"") + key + "\" must be a non-empty array of strings");
            out.push_back(item.get<std::string>());
        }
        return out;
    }
    std::uint64_t uint(const char* key, bool required, std::uint64_t fallback, std::uint64_t min,
                       std::uint64_t max) const {
        const json* v = find(key, required);
        if (v == nullptr) return fallback;
        if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0)) {
            throw ParamError(std::string("\"") + key + "\" must be a non-negative integer");
        }
        const auto n = v->get<std::uint64_t>();
        if (n < min || n > max) {
            throw ParamError(std::string("\"") + key + "\" must be between " + std::to_string(min) + " and " +
                             std::to_string(max));
        }
        return n;
    }

private:
    const json* find(const char* key, bool required) const {
        if (p_ != nullptr) {
            auto it = p_->find(key);
            if (it != p_->end()) return &*it;
        }
        if (required) throw ParamError(std::string("missing param \"") + key + "\"");
        return nullptr;
    }
    const json* p_ = nullptr;
};

// Sends one bus request and maps its reply with `convert`; bus errors become -32000-range errors.
template <class R, class Convert>
void ask(sdk::Bus& bus, const MethodOptions& o, R req, Convert convert, Done done) {
    auto d = std::make_shared<Done>(std::move(done));
    const bool queued = bus.request<R>(std::move(req), o.request_timeout_ms,
                                       [d, convert = std::move(convert)](sdk::Result<typename R::Reply> r) {
                                           if (!r.ok()) return (*d)(application_error(r.error()));
                                           (*d)(convert(r.value()));
                                       });
    if (!queued) (*d)(application_error({sdk::ErrorCode::queue_full, "the bus is full or closed"}));
}

template <class T>
json array_of(const std::vector<T>& items) {
    json a = json::array();
    for (const auto& i : items) a.push_back(to_json(i));
    return a;
}

json done_json(const msg::Done&) { return json::object(); }
json group_json(const msg::Group& g) { return to_json(g); }

// The "group" param: shaped as a group ID ("03" + 64 hex), so a person's ID given by mistake is
// refused here rather than taken as a one-to-one conversation by the messenger.
std::string group_param(const Params& a) {
    auto g = a.str("group");
    const bool hex = std::all_of(g.begin(), g.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    if (g.size() != 66 || !g.starts_with("03") || !hex) {
        throw ParamError("\"group\" must be a group ID (03 followed by 64 hex characters)");
    }
    return g;
}

// Members one call may name (a group holds at most 1,000).
constexpr std::size_t kMaxGroupMembers = 1000;

// group.add, group.remove, group.admin: one ChangeGroup each.
void change_group(sdk::Bus& b, const MethodOptions& o, const json& p, msg::GroupChange change, Done d) {
    Params a(p, {"group", "members"});
    msg::ChangeGroup req{group_param(a), change, a.strings("members", kMaxGroupMembers)};
    if (change == msg::GroupChange::admin && req.members.size() != 1) throw ParamError("\"members\" must name one member");
    ask(b, o, std::move(req), group_json, std::move(d));
}

// Pages read while collecting one peer's unread messages: the first, and the largest.
constexpr std::uint32_t kReceivePage = 1000;
constexpr std::uint32_t kReceiveMaxPage = 65536;

// `receive`: every unread incoming message, oldest first, then marked read. MarkRead marks the
// whole conversation, so a peer's list is asked again with a larger limit (x4, up to 65536)
// while it comes back full holding fewer unread messages than the conversation counts; only
// past 65536 unread from one peer are the older ones marked read unseen. A message that
// arrives between listing and marking is caught by listing again after marking (set difference
// by id), so none is marked read without being returned.
struct Receive final : std::enable_shared_from_this<Receive> {
    sdk::Bus* bus;
    MethodOptions options;
    Done done;
    std::vector<std::pair<std::string, std::uint64_t>> peers;  // peer, unread count when listed
    std::size_t next = 0;
    std::uint32_t page = kReceivePage;  // limit for the peer in progress
    std::set<std::string> seen;  // ids listed before marking, for the peer in progress
    std::vector<msg::Message> out;

    void start() {
        auto self = shared_from_this();
        ask(*bus, options, msg::ListConversations{},
            [self](const msg::ConversationList& l) {
                for (const auto& c : l.conversations) {
                    if (c.unread > 0 && !c.blocked) self->peers.emplace_back(c.peer, c.unread);
                }
                return json();
            },
            [self](Outcome o) {
                if (std::holds_alternative<RpcError>(o)) return self->done(std::move(o));
                self->page = kReceivePage;
                self->next_peer();
            });
    }
    void next_peer() {
        if (next == peers.size()) return finish();
        auto self = shared_from_this();
        list(peers[next].first, [self](const msg::MessageList& l) {
            std::uint64_t unread = 0;
            for (const auto& m : l.messages) unread += (!m.outgoing && !m.read) ? 1 : 0;
            const bool full = l.messages.size() >= self->page;
            if (full && unread < self->peers[self->next].second && self->page < kReceiveMaxPage) {
                self->page = std::min<std::uint32_t>(self->page * 4, kReceiveMaxPage);  // older unread ones left out
                return self->next_peer();
            }
            self->seen.clear();
            for (const auto& m : l.messages) {
                self->seen.insert(m.id);
                if (!m.outgoing && !m.read) self->out.push_back(m);
            }
            self->mark();
        });
    }
    void mark() {
        auto self = shared_from_this();
        ask(*bus, options, msg::MarkRead{peers[next].first}, done_json, [self](Outcome o) {
            if (std::holds_alternative<RpcError>(o)) return self->done(std::move(o));
            self->list(self->peers[self->next].first, [self](const msg::MessageList& l) {
                for (const auto& m : l.messages) {
                    if (!m.outgoing && !self->seen.contains(m.id)) self->out.push_back(m);
                }
                ++self->next;
                self->page = kReceivePage;
                self->next_peer();
            });
        });
    }
    void list(const std::string& peer, std::function<void(const msg::MessageList&)> then) {
        auto self = shared_from_this();
        const bool queued = bus->request<msg::ListMessages>(
            msg::ListMessages{peer, page}, options.request_timeout_ms,
            [self, then = std::move(then)](sdk::Result<msg::MessageList> r) {
                if (!r.ok()) return self->done(application_error(r.error()));
                then(r.value());
            });
        if (!queued) done(application_error({sdk::ErrorCode::queue_full, "the bus is full or closed"}));
    }
    void finish() {
        std::stable_sort(out.begin(), out.end(),
                         [](const msg::Message& a, const msg::Message& b) { return a.sent_at_ms < b.sent_at_ms; });
        done(array_of(out));
    }
};

using Handler = void (*)(sdk::Bus&, const MethodOptions&, const json&, Session&, Done);

const std::map<std::string, Handler, std::less<>>& handlers() {
    static const std::map<std::string, Handler, std::less<>> table{
        {"profile",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             ask(b, o, msg::GetProfile{}, [](const msg::Profile& r) { return to_json(r); }, std::move(d));
         }},
        {"send",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"to", "text", "file", "keep_metadata", "keep_name"});
             msg::SendMessage req{a.str("to"), a.str("text", false), a.str("file", false),
                                  a.boolean("keep_metadata", false)};
             const bool keep_name = a.boolean("keep_name", false);
             if ((req.keep_metadata || keep_name) && req.file_path.empty()) {
                 throw ParamError("\"keep_metadata\" and \"keep_name\" need a \"file\"");
             }
             if (keep_name) req.file_name = std::filesystem::path(req.file_path).filename().string();
             if (!req.file_path.empty() && !std::filesystem::path(req.file_path).is_absolute()) {
                 throw ParamError("\"file\" must be an absolute path (the daemon's working directory is not yours)");
             }
             if (req.text.empty() && req.file_path.empty()) throw ParamError("give \"text\" or \"file\"");
             ask(b, o, std::move(req),
                 [](const msg::Queued& r) {
                     json j = to_json(r.message);
                     if (!r.notice.empty()) j["notice"] = r.notice;
                     return j;
                 },
                 std::move(d));
         }},
        {"conversations",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             ask(b, o, msg::ListConversations{},
                 [](const msg::ConversationList& r) { return array_of(r.conversations); }, std::move(d));
         }},
        {"messages",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"peer", "limit"});
             msg::ListMessages req{a.str("peer"), static_cast<std::uint32_t>(a.uint("limit", false, 200, 1, 10000))};
             ask(b, o, std::move(req), [](const msg::MessageList& r) { return array_of(r.messages); }, std::move(d));
         }},
        {"mark_read",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"peer"});
             ask(b, o, msg::MarkRead{a.str("peer")}, done_json, std::move(d));
         }},
        {"contacts",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             ask(b, o, msg::ListContacts{}, [](const msg::ContactList& r) { return array_of(r.contacts); },
                 std::move(d));
         }},
        {"contacts.save",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"id", "name"});
             ask(b, o, msg::SaveContact{a.str("id"), a.str("name")}, done_json, std::move(d));
         }},
        {"contacts.accept",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"id"});
             ask(b, o, msg::AcceptRequest{a.str("id")}, done_json, std::move(d));
         }},
        {"contacts.block",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"id", "blocked"});
             ask(b, o, msg::SetBlocked{a.str("id"), a.boolean("blocked")}, done_json, std::move(d));
         }},
        {"disappearing",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"peer", "seconds"});
             msg::SetDisappearing req{a.str("peer"), static_cast<std::uint32_t>(a.uint(
                                                         "seconds", true, 0, 0, std::numeric_limits<std::uint32_t>::max()))};
             ask(b, o, std::move(req), done_json, std::move(d));
         }},
        {"devices",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             ask(b, o, msg::ListDevices{}, [](const msg::DeviceList& r) { return array_of(r.devices); }, std::move(d));
         }},
        {"group.create",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"name", "members"});
             msg::CreateGroup req{a.str("name"), {}};
             if (p.contains("members")) req.members = a.strings("members", kMaxGroupMembers - 1);
             if (req.name.empty()) throw ParamError("\"name\" must not be empty");
             ask(b, o, std::move(req), group_json, std::move(d));
         }},
        {"group.add",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             change_group(b, o, p, msg::GroupChange::add, std::move(d));
         }},
        {"group.remove",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             change_group(b, o, p, msg::GroupChange::remove, std::move(d));
         }},
        {"group.admin",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             change_group(b, o, p, msg::GroupChange::admin, std::move(d));
         }},
        {"group.list",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             ask(b, o, msg::ListGroups{}, [](const msg::GroupList& r) { return array_of(r.groups); }, std::move(d));
         }},
        {"group.members",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"group"});
             ask(b, o, msg::GetGroup{group_param(a)}, group_json, std::move(d));
         }},
        {"group.accept",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"group"});
             ask(b, o, msg::AcceptRequest{group_param(a)}, done_json, std::move(d));
         }},
        {"group.send",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"group", "text"});
             msg::SendMessage req;
             req.to = group_param(a);
             req.text = a.str("text");
             if (req.text.empty()) throw ParamError("\"text\" must not be empty");
             ask(b, o, std::move(req), [](const msg::Queued& r) { return to_json(r.message); }, std::move(d));
         }},
        {"group.messages",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params a(p, {"group", "limit"});
             msg::ListMessages req{group_param(a), static_cast<std::uint32_t>(a.uint("limit", false, 200, 1, 10000))};
             ask(b, o, std::move(req), [](const msg::MessageList& r) { return array_of(r.messages); }, std::move(d));
         }},
        {"receive",
         [](sdk::Bus& b, const MethodOptions& o, const json& p, Session&, Done d) {
             Params(p, {});
             auto r = std::make_shared<Receive>();
             r->bus = &b;
             r->options = o;
             r->done = std::move(d);
             r->start();
         }},
        {"subscribe",
         [](sdk::Bus&, const MethodOptions&, const json& p, Session& s, Done d) {
             Params(p, {});
             s.set_subscribed(true);
             d(json{{"subscribed", true}});
         }},
        {"unsubscribe",
         [](sdk::Bus&, const MethodOptions&, const json& p, Session& s, Done d) {
             Params(p, {});
             s.set_subscribed(false);
             d(json{{"subscribed", false}});
         }},
    };
    return table;
}

}  // namespace

const std::vector<std::string_view>& method_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> n;
        for (const auto& [k, _] : handlers()) n.emplace_back(k);
        return n;
    }();
    return names;
}

RpcError application_error(const sdk::Error& e) {
    return RpcError{code::application_base - static_cast<int>(e.code), e.message,
                    json{{"kind", std::string(sdk::to_string(e.code))}}};
}

void run_method(sdk::Bus& bus, const MethodOptions& options, const Call& call, Session& session, Done done) {
    const auto it = handlers().find(call.method);
    if (it == handlers().end()) {
        return done(RpcError{code::method_not_found, "method not found: " + call.method, {}});
    }
    // `done` is shared so a throw after the handler handed it on cannot answer twice.
    auto once = std::make_shared<Done>(std::move(done));
    auto answered = std::make_shared<bool>(false);
    Done guarded = [once, answered](Outcome o) {
        if (*answered) return;
        *answered = true;
        (*once)(std::move(o));
    };
    try {
        it->second(bus, options, call.params, session, guarded);
    } catch (const ParamError& e) {
        guarded(RpcError{code::invalid_params, e.what(), {}});
    } catch (const std::exception& e) {
        guarded(RpcError{code::internal_error, std::string("internal error: ") + e.what(), {}});
    }
}

}  // namespace veil::rpc
