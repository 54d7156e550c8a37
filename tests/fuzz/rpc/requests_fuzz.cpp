// Untrusted bytes from an RPC client: framed into lines, parsed, checked and dispatched on a
// real bus (nobody serves the messenger contract, so calls that pass their checks end in a
// no_handler error). Every line must get exactly one answer (or "" for notifications only),
// and every answer must be one line of valid JSON-RPC.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

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
    // The first byte picks how the stream is cut into reads (framing must not depend on it).
    veil::rpc::LineReader reader(4096);
    const std::size_t chunk = size > 0 ? 1 + data[0] * 17u : 1;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::vector<veil::rpc::Line> lines;
    for (std::size_t off = 0; off < bytes.size(); off += chunk) {
        reader.feed(bytes.substr(off, chunk));
        while (auto l = reader.next()) lines.push_back(std::move(*l));
        if (reader.buffered() > 4096 + chunk) std::abort();  // bounded whatever the input
    }
    reader.feed("\n");
    while (auto l = reader.next()) lines.push_back(std::move(*l));
    veil::rpc::DispatchOptions options;
    options.max_batch = 16;
    options.methods.request_timeout_ms = 1000;
    FuzzSession session;
    std::size_t started = 0, answered = 0;
    for (auto* line = lines.data(); line != lines.data() + lines.size(); ++line) {
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
