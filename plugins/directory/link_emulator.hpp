#pragma once
/// A user-space TCP link emulator (this kernel has no netem): it listens at a host's public
/// address and forwards every connection to the process behind it, holding each chunk of bytes
/// until its release time: one-way delay + jitter (order kept), bandwidth (bytes queue behind
/// each other), and on a share of connections a stall (nothing moves either way for stall_ms).
/// Runs on one libuv loop; `veil-link` (link_main.cpp) is its executable.

#include <uv.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "link_profile.hpp"

namespace veil::directory {

class LinkEmulator final {
public:
    /// Listens at listen_host:listen_port and forwards to to_host:to_port (IPv4).
    LinkEmulator(uv_loop_t* loop, LinkProfile profile, const std::string& to_host, std::uint16_t to_port);
    ~LinkEmulator();
    LinkEmulator(const LinkEmulator&) = delete;
    LinkEmulator& operator=(const LinkEmulator&) = delete;

    /// Starts listening (port 0: the kernel picks one); throws with libuv's message when it cannot.
    void listen(const std::string& host, std::uint16_t port);
    /// The port it listens on.
    [[nodiscard]] std::uint16_t port() const;
    /// Closes the listener (open connections finish on their own).
    void close();

    /// With a file, one line per connection accepted and per chunk read ("<ms> c<N> in|out <bytes>",
    /// ms of the loop's clock; 0 bytes: the end of the stream), to see where a message's time goes.
    void trace_to(std::FILE* out) { trace_ = out; }

    /// Connections accepted and stalled so far.
    [[nodiscard]] std::uint64_t accepted() const { return accepted_; }
    [[nodiscard]] std::uint64_t stalled() const { return stalled_; }

private:
    static void on_connection(uv_stream_t* server, int status);
    uv_loop_t* loop_;
    LinkProfile profile_;
    sockaddr_in to_{};
    uv_tcp_t server_{};
    bool listening_ = false;
    std::uint64_t accepted_ = 0, stalled_ = 0;
    std::FILE* trace_ = nullptr;
};

}  // namespace veil::directory
