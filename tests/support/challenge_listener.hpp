#pragma once
// PlainListener: a TCP listener on a chosen 127.x.y.z address standing in for a node at the
// directory's admission check: silent (a fake registration), or answering challenges with a key
// (a hostile operator's many keys on one machine, or a registrant in a benchmark). No Catch:
// benchmarks use it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "veil/crypto/keys.hpp"
#include "veil/proto/admission.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::test {

// A plain TCP listener (not a node) on a chosen 127.x.y.z address: it accepts, reads what each
// connection sends until the peer closes or goes quiet, and never answers; or, given a key, it
// answers every admission challenge as a node holding that key at this address would (what a
// hostile operator running many keys on one machine does).
class PlainListener final {
public:
    explicit PlainListener(const std::string& host, const crypto::SigningKeyPair* answer_as = nullptr)
        : host_(host), answer_as_(answer_as) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("cannot bind " + host);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        if (::listen(fd_, 64) != 0) throw std::runtime_error("cannot listen on " + host);
        thread_ = std::thread([this] { run(); });
    }
    ~PlainListener() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }
    // Bytes each connection sent (one entry per connection, closed or still open).
    std::vector<wire::Bytes> connections() {
        std::lock_guard lock(mutex_);
        return received_;
    }

private:
    void run() {
        std::vector<std::pair<int, std::size_t>> open;  // fd, index in received_
        while (!stop_) {
            std::vector<pollfd> fds{{fd_, POLLIN, 0}};
            for (auto [fd, i] : open) fds.push_back({fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                int c = ::accept(fd_, nullptr, nullptr);
                std::lock_guard lock(mutex_);
                if (c >= 0) open.emplace_back(c, received_.size()), received_.emplace_back();
            }
            for (std::size_t k = 1; k < fds.size(); ++k) {
                if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                std::uint8_t buf[4096];
                auto n = ::recv(fds[k].fd, buf, sizeof buf, 0);
                std::lock_guard lock(mutex_);
                auto& bytes = received_[open[k - 1].second];
                if (n > 0) bytes.insert(bytes.end(), buf, buf + n), answer(fds[k].fd, bytes);
                else ::close(fds[k].fd), open[k - 1].first = -1;
            }
            std::erase_if(open, [](const auto& p) { return p.first < 0; });
        }
        for (auto [fd, i] : open) ::close(fd);
    }
    // Answers the challenge in `bytes` (all this connection sent), if complete and asked to.
    void answer(int fd, const wire::Bytes& bytes) {
        if (!answer_as_) return;
        sdk::net::FrameDecoder frames(4096);
        if (!frames.feed(bytes.data(), bytes.size())) return;
        auto frame = frames.next();
        if (!frame) return;
        auto inbound = sdk::transport::decode_service_request(frame->payload, 4096);
        if (!inbound) return;
        auto request = proto::node::decode_request(inbound.value().body);
        const auto& c = std::get<proto::node::ChallengeRequest>(request.body);
        auto signature = answer_as_->sign(proto::challenge_message(c.authority, c.nonce, host_, port_));
        auto body = proto::node::encode_response(
            proto::node::Method::challenge,
            proto::node::Response{request.id, proto::node::Status::ok, proto::node::ChallengeResponse{signature}});
        auto out = sdk::net::encode_frame({frame->id, sdk::net::FrameStatus::ok,
                                           sdk::transport::encode_service_response({sdk::transport::Status::ok, body})});
        (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    }
    std::string host_;
    const crypto::SigningKeyPair* answer_as_ = nullptr;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<wire::Bytes> received_;
};

}  // namespace veil::test
