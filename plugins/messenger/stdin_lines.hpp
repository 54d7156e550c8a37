#pragma once
/// Lines of standard input, read on a plugin-owned thread (stdin may be a terminal, a pipe or a
/// file, which libuv cannot all watch) and delivered on the loop thread through the bus.

#include <atomic>
#include <string>
#include <string_view>
#include <thread>

#include "veil/sdk/bus.hpp"

namespace veil::messenger {

/// One line typed (without its newline), or the end of input.
struct StdinLine {
    static constexpr std::string_view topic = "veil.messenger.stdin_line";
    std::string text;
    bool eof = false;
};

class StdinLines final {
public:
    /// Starts reading; each line is published on `bus` as a StdinLine, then one with eof set.
    explicit StdinLines(sdk::Bus& bus);
    /// Stops the thread (it checks every 200 ms) and joins it.
    ~StdinLines();
    StdinLines(const StdinLines&) = delete;
    StdinLines& operator=(const StdinLines&) = delete;

private:
    void read_loop();
    sdk::Bus& bus_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace veil::messenger
