// veil-link: the link emulator in front of one host of `veil testnet up --hosts` (link_emulator.hpp).
//   veil-link --listen HOST:PORT --to HOST:PORT --link NAME [--delay MS] [--profile FILE] [--dir TESTNET_DIR]
// Runs until SIGTERM/SIGINT.
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "link_emulator.hpp"

namespace {

std::pair<std::string, std::uint16_t> host_port(const std::string& s) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("expected HOST:PORT, got '" + s + "'");
    auto port = std::stoul(s.substr(colon + 1));
    if (port == 0 || port > 65535) throw std::runtime_error("bad port in '" + s + "'");
    return {s.substr(0, colon), static_cast<std::uint16_t>(port)};
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string listen, to, link;
        std::optional<std::filesystem::path> profile;
        std::optional<std::uint64_t> delay;
        for (int i = 1; i + 1 < argc; i += 2) {
            std::string a = argv[i], v = argv[i + 1];
            if (a == "--listen") listen = v;
            else if (a == "--to") to = v;
            else if (a == "--link") link = v;
            else if (a == "--profile") profile = v;
            else if (a == "--delay") delay = std::stoull(v);
            else if (a == "--dir") continue;  // the testnet it belongs to (`testnet status` finds it by it)
            else throw std::runtime_error("unexpected argument '" + a + "'");
        }
        if (listen.empty() || to.empty() || link.empty() || argc % 2 == 0)
            throw std::runtime_error("usage: veil-link --listen HOST:PORT --to HOST:PORT --link NAME [--delay MS] [--profile FILE]");
        auto p = veil::directory::load_link_profile(profile, link, delay);
        auto [to_host, to_port] = host_port(to);
        auto [at_host, at_port] = host_port(listen);
        // A peer that closes while bytes are on their way to it costs that connection (EPIPE),
        // not the emulator (SIGPIPE killed it silently).
        std::signal(SIGPIPE, SIG_IGN);
        uv_loop_t* loop = uv_default_loop();
        veil::directory::LinkEmulator emulator(loop, p, to_host, to_port);
        emulator.listen(at_host, at_port);
        // VEIL_LINK_TRACE=1 (inherited from `veil testnet up`): every connection and chunk to link.log.
        if (const char* t = std::getenv("VEIL_LINK_TRACE"); t && std::string(t) == "1") {
            std::setvbuf(stdout, nullptr, _IOLBF, 0);
            emulator.trace_to(stdout);
        }
        std::printf("veil-link %s: %s -> %s, in %llu+%llu ms, out %llu+%llu ms, stall %.3f x %llu ms\n", link.c_str(),
                    listen.c_str(), to.c_str(), static_cast<unsigned long long>(p.in.delay_ms),
                    static_cast<unsigned long long>(p.in.jitter_ms), static_cast<unsigned long long>(p.out.delay_ms),
                    static_cast<unsigned long long>(p.out.jitter_ms), p.stall_probability,
                    static_cast<unsigned long long>(p.stall_ms));
        std::fflush(stdout);
        return uv_run(loop, UV_RUN_DEFAULT);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "veil-link: %s\n", e.what());
        return 2;
    }
}
