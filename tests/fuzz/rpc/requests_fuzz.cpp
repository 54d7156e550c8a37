// Untrusted bytes from an RPC client: framed into lines, parsed, checked and dispatched on a
// real bus (nobody serves the messenger contract, so calls that pass their checks end in a
// no_handler error). Every line must get exactly one answer (or "" for notifications only),
// and every answer must be one line of valid JSON-RPC.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <uv.h>

#include "dispatcher.hpp"
#include "line_reader.hpp"

namespace {

struct FuzzSession final : veil::rpc::Session {
    void set_subscribed(bool on) override { subscribed = on; }
    bool subscribed = false;
};

struct World {
    uv_loop_t loop{};
    uv_idle_t busy{};  // a ref'd handle while pumping: the bus's own handle keeps no loop alive
    veil::sdk::Bus* bus = nullptr;
    World() {
        uv_loop_init(&loop);
        uv_idle_init(&loop, &busy);
        bus = new veil::sdk::Bus(&loop);  // kept for the process's life: libFuzzer never returns
    }
};

void check_answer(const std::string& answer) {
    if (answer.empty()) return;
    if (answer.back() != '\n' || answer.find('\n') != answer.size() - 1) std::abort();
    auto v = veil::rpc::json::parse(answer, nullptr, false);
    if (v.is_discarded()) std::abort();
    auto check_one = [](const veil::rpc::json& r) {
        if (!r.is_object() || r.value("jsonrpc", "") != "2.0" || !r.contains("id")) std::abort();
        if (r.contains("result") == r.contains("error")) std::abort();
    };
    if (v.is_array()) {
        if (v.empty()) std::abort();
        for (const auto& r : v) check_one(r);
    } else {
        check_one(v);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    veil::rpc::LineReader reader(4096);
    reader.feed(std::string_view(reinterpret_cast<const char*>(data), size));
    reader.feed("\n");
    veil::rpc::DispatchOptions options;
    options.max_batch = 16;
    options.methods.request_timeout_ms = 1000;
    FuzzSession session;
    std::size_t started = 0, answered = 0;
    while (auto line = reader.next()) {
        if (line->too_long) continue;
        ++started;
        veil::rpc::handle_line(*world.bus, options, line->text, session, [&answered](std::string a) {
            check_answer(a);
            ++answered;
        });
    }
    uv_idle_start(&world.busy, [](uv_idle_t*) {});
    for (int i = 0; i < 10000 && answered < started; ++i) uv_run(&world.loop, UV_RUN_NOWAIT);
    uv_idle_stop(&world.busy);
    if (answered != started) std::abort();  // a line that never got its answer
    return 0;
}
