// Line -> calls -> answer line (see dispatcher.hpp).
#include "dispatcher.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace veil::rpc {

namespace {

// Answers of one line, gathered until every call has finished.
struct Gather final {
    bool batch = false;
    std::vector<std::optional<json>> slots;  // nullopt: a notification (no answer)
    std::size_t pending = 0;
    AnswerFn answer;

    void finish_one() {
        if (--pending > 0) return;
        if (!batch) {
            answer(slots[0] ? to_line(*slots[0]) : std::string());
            return;
        }
        json out = json::array();
        for (auto& s : slots) {
            if (s) out.push_back(std::move(*s));
        }
        answer(out.empty() ? std::string() : to_line(out));  // notifications only: no answer
    }
};

}  // namespace

void handle_line(sdk::Bus& bus, const DispatchOptions& options, std::string_view line, Session& session,
                 AnswerFn answer) {
    Parsed parsed = parse_line(line, options.max_batch);
    auto g = std::make_shared<Gather>();
    g->batch = parsed.batch;
    g->slots.resize(parsed.entries.size());
    g->pending = parsed.entries.size() + 1;  // +1 until every call is started
    g->answer = std::move(answer);
    for (std::size_t i = 0; i < parsed.entries.size(); ++i) {
        auto& e = parsed.entries[i];
        if (auto* err = std::get_if<json>(&e)) {
            g->slots[i] = std::move(*err);
            g->finish_one();
            continue;
        }
        auto& call = std::get<Call>(e);
        const bool notification = call.notification;
        json id = call.id;
        run_method(bus, options.methods, call, session, [g, i, notification, id](Outcome o) {
            if (!notification) {
                if (auto* r = std::get_if<json>(&o)) {
                    g->slots[i] = result_response(id, std::move(*r));
                } else {
                    g->slots[i] = error_response(id, std::get<RpcError>(o));
                }
            }
            g->finish_one();
        });
    }
    g->finish_one();
}

std::string too_long_answer(std::size_t max_line_bytes) {
    return to_line(error_response(
        json(), {code::invalid_request, "request line longer than " + std::to_string(max_line_bytes) + " bytes", {}}));
}

}  // namespace veil::rpc
