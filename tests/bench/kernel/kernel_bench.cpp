// Kernel benchmark: bus throughput vs a plain std::function loop, request/reply rate,
// kernel start-to-exit time vs a bare process spawn, binary sizes, idle RSS vs a bare process.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "support/process.hpp"
#include "veil/sdk/bus.hpp"

using namespace veil::sdk;
using Clock = std::chrono::steady_clock;

namespace {

struct Tick {
    static constexpr std::string_view topic = "bench.tick";
    std::uint64_t n = 0;
};
struct Pong {
    std::uint64_t n = 0;
};
struct Ping {
    static constexpr std::string_view topic = "bench.ping";
    using Reply = Pong;
    std::uint64_t n = 0;
};

// The bus's uv_async handle does not keep a loop alive (by design); an active idle handle does,
// so that UV_RUN_NOWAIT polls for the async wake-ups.
struct KeepAlive {
    explicit KeepAlive(uv_loop_t* loop) {
        uv_idle_init(loop, &idle);
        uv_idle_start(&idle, [](uv_idle_t*) {});
    }
    ~KeepAlive() { uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr); }
    uv_idle_t idle{};
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Raw limit: the same handler called through a std::function in a plain loop.
double function_calls_per_second(std::uint64_t n) {
    volatile std::uint64_t sink = 0;
    std::function<void(const Tick&)> fn = [&](const Tick& t) { sink = sink + t.n; };
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) fn(Tick{i});
    return static_cast<double>(n) / seconds_since(t0);
}

double bus_messages_per_second(std::uint64_t n, bool other_thread) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    double rate = 0;
    {
        KeepAlive keep(&loop);
        Bus bus(&loop, BusOptions{1 << 16});
        std::uint64_t got = 0;
        auto sub = bus.subscribe<Tick>([&](const Tick&) { ++got; });
        auto t0 = Clock::now();
        std::thread producer;
        if (other_thread) {
            producer = std::thread([&] {
                for (std::uint64_t i = 0; i < n; ++i) bus.publish_wait(Tick{i});
            });
        }
        std::uint64_t sent = 0;
        while (got < n) {
            // On the loop thread, publish in bursts that fit the queue, then deliver.
            for (int i = 0; !other_thread && i < 4096 && sent < n; ++i, ++sent) bus.publish(Tick{sent});
            uv_run(&loop, UV_RUN_NOWAIT);
        }
        rate = static_cast<double>(n) / seconds_since(t0);
        if (producer.joinable()) producer.join();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rate;
}

double requests_per_second(std::uint64_t n) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    double rate = 0;
    {
        KeepAlive keep(&loop);
        Bus bus(&loop);
        auto srv = bus.serve<Ping>([](const Ping& p, Responder<Pong> r) { r.reply(Pong{p.n}); });
        std::uint64_t got = 0, sent = 0;
        auto t0 = Clock::now();
        while (got < n) {
            for (int i = 0; i < 1024 && sent < n; ++i, ++sent) {
                (void)bus.request<Ping>(Ping{sent}, 0, [&](Result<Pong>) { ++got; });
            }
            uv_run(&loop, UV_RUN_NOWAIT);
        }
        rate = static_cast<double>(n) / seconds_since(t0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rate;
}

double median_ms(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double run_ms(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    auto t0 = Clock::now();
    auto r = veil::test::run(argv, env);
    if (r.exit_code != 0) std::fprintf(stderr, "bench: %s exited %d: %s\n", argv[0].c_str(), r.exit_code, r.err.c_str());
    return seconds_since(t0) * 1000;
}

// Size of `path` after `strip --strip-all` (debug info and symbol tables would dominate and
// differ between build types); -1 if missing.
long stripped_size(const std::string& path, const std::filesystem::path& tmp) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return -1;
    auto out = tmp / ("stripped-" + std::to_string(std::hash<std::string>{}(path)));
    auto r = veil::test::run({"/usr/bin/strip", "--strip-all", "-o", out.string(), path});
    if (r.exit_code != 0) return -1;
    return static_cast<long>(std::filesystem::file_size(out, ec));
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const std::string bin = std::string(VEIL_BINARY_DIR);
    const std::string static_veil = argc > 1 ? argv[1] : bin + "-static/bin/veil";

    std::printf("== bus (one loop thread, 2-core machine; ratios are what to compare) ==\n");
    constexpr std::uint64_t kN = 2'000'000;
    double raw = function_calls_per_second(kN);
    double same = bus_messages_per_second(kN, false);
    double cross = bus_messages_per_second(kN, true);
    double req = requests_per_second(kN / 4);
    std::printf("std::function call loop (raw limit):  %12.0f calls/s\n", raw);
    std::printf("bus publish->handler, loop thread:    %12.0f msg/s   ratio %.4f of raw\n", same, same / raw);
    std::printf("bus publish->handler, other thread:   %12.0f msg/s   ratio %.4f of raw\n", cross, cross / raw);
    std::printf("bus request->reply round trips:       %12.0f req/s   ratio %.4f of raw\n", req, req / raw);

    std::printf("\n== kernel start to exit: 'veil version' with cli+memory+direct(listening) ==\n");
    veil::test::TempDir d;
    const std::vector<std::string> all = {bin + "/bin/veil", "--home", d.path().string(), "--set",
                                          "kernel.plugins=[\"cli\",\"memory\",\"direct\"]", "--set",
                                          "direct.listen=127.0.0.1:0", "--log-level", "error", "version"};
    std::vector<double> spawn, veil_all;
    for (int i = 0; i < 15; ++i) {
        spawn.push_back(run_ms({"/bin/true"}));
        veil_all.push_back(run_ms(all));
    }
    double s = median_ms(spawn), k = median_ms(veil_all);
    std::printf("bare process spawn /bin/true (raw):   %8.2f ms (median of 15)\n", s);
    std::printf("veil start, ready, command, stop:     %8.2f ms (median of 15)   ratio %.1fx raw\n", k, k / s);

    std::printf("\n== binary size (stripped) ==\n");
    long dyn = stripped_size(bin + "/bin/veil", d.path());
    long sdk = stripped_size(bin + "/lib/libveil-sdk.so.0.1.0", d.path());
    long crypto = stripped_size(bin + "/sdk/crypto/libveil-crypto.so.0.1.0", d.path());
    long plugins = 0;
    for (auto p : {"cli", "memory", "direct"}) {
        plugins += stripped_size(bin + "/lib/veil/plugins/veil-plugin-" + std::string(p) + ".so", d.path());
    }
    long total = dyn + sdk + crypto + plugins;
    std::printf("dynamic: veil %ld + libveil-sdk %ld + libveil-crypto %ld + 3 plugins %ld = %ld B\n", dyn, sdk,
                crypto, plugins, total);
    long st = stripped_size(static_veil, d.path());
    if (st > 0) {
        // The static build links the same libveil-sdk/libveil-crypto; only the plugins move in.
        std::printf("static minimal (%s): veil %ld + libs %ld = %ld B   ratio %.2f of dynamic\n",
                    static_veil.c_str(), st, sdk + crypto, st + sdk + crypto,
                    static_cast<double>(st + sdk + crypto) / static_cast<double>(total));
    } else {
        std::printf("static minimal: not built (configure build-kernel-static with -DVEIL_STATIC_PLUGINS=\"direct;memory;cli\")\n");
    }

    std::printf("\n== idle RSS ==\n");
    auto home = d.path() / "idle";
    std::string log = (d.path() / "idle.log").string();
    pid_t pid = 0;
    {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid = veil::test::detail::spawn({bin + "/bin/veil", "--home", home.string(), "--set",
                                         "kernel.plugins=[\"memory\",\"direct\"]", "--set", "direct.listen=127.0.0.1:0"},
                                        {}, fd, fd);
        close(fd);
    }
    veil::test::wait_for_line(home / "direct" / "listen.addr");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long veil_rss = rss_kib(pid);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    pid_t sleeper = veil::test::detail::spawn({"/bin/sleep", "5"}, {}, -1, -1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    long raw_rss = rss_kib(sleeper);
    kill(sleeper, SIGTERM);
    waitpid(sleeper, nullptr, 0);
    std::printf("bare process /bin/sleep (raw):        %6ld KiB\n", raw_rss);
    std::printf("idle veil (memory + direct listening): %6ld KiB   ratio %.1fx raw\n", veil_rss,
                static_cast<double>(veil_rss) / static_cast<double>(raw_rss));
    return 0;
}
