#include "stdin_lines.hpp"

#include <poll.h>
#include <unistd.h>

namespace veil::messenger {

StdinLines::StdinLines(sdk::Bus& bus) : bus_(bus), thread_([this] { read_loop(); }) {}

StdinLines::~StdinLines() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void StdinLines::read_loop() {
    std::string pending;
    char buf[4096];
    while (!stop_) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        int ready = ::poll(&p, 1, 200);
        if (ready == 0) continue;
        ssize_t n = ready < 0 ? 0 : ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0) continue;  // EINTR and the like: try again
        if (n == 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            std::string line = pending.substr(0, nl);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            pending.erase(0, nl + 1);
            bus_.publish_wait(StdinLine{std::move(line), false});
        }
    }
    if (stop_) return;
    if (!pending.empty()) bus_.publish_wait(StdinLine{std::move(pending), false});
    bus_.publish_wait(StdinLine{{}, true});
}

}  // namespace veil::messenger
