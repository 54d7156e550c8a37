// Endpoint parsing and the frame codec (untrusted input: fuzzed in tests/fuzz/kernel).
#include <algorithm>
#include <charconv>

#include "veil/sdk/net.hpp"

namespace veil::sdk::net {

namespace {
constexpr std::size_t kHeaderBytes = 8 + 1;  // id + status, after the u32 length

std::uint32_t read_u32(const std::uint8_t* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}
}  // namespace

std::string Endpoint::to_string() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
    auto bad = [&] {
        return Result<Endpoint>(ErrorCode::bad_input, "'" + std::string(text) + "' is not host:port");
    };
    Endpoint ep;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad();
        ep.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) return bad();
        ep.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ep.host.empty() || port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
        return bad();
    }
    ep.port = static_cast<std::uint16_t>(value);
    sockaddr_in6 a6{};
    sockaddr_in a4{};
    if (uv_ip4_addr(ep.host.c_str(), ep.port, &a4) != 0 && uv_ip6_addr(ep.host.c_str(), ep.port, &a6) != 0) {
        return Result<Endpoint>(ErrorCode::bad_input, "'" + ep.host + "' is not a numeric IPv4/IPv6 address");
    }
    return ep;
}

Bytes encode_frame(const Frame& frame) {
    wire::Writer w;
    w.u32(static_cast<std::uint32_t>(kHeaderBytes + frame.payload.size()))
        .u64(frame.id)
        .u8(static_cast<std::uint8_t>(frame.status))
        .raw(frame.payload);
    return w.take();
}

void FrameDecoder::fail(std::string why) {
    error_ = std::move(why);
    Bytes().swap(buf_);
    pos_ = 0;
}

// Checks the frame at pos_ as soon as its bytes allow: its length against max_, then (once the
// FrameLimit can tell) against the limit for its payload. Before its body is buffered.
bool FrameDecoder::check_head() {
    std::size_t avail = buf_.size() - pos_;
    if (avail < 4) return true;
    std::uint32_t len = read_u32(buf_.data() + pos_);
    if (len < kHeaderBytes) {
        fail("frame shorter than its header");
        return false;
    }
    if (len - kHeaderBytes > max_) {
        fail("frame of " + std::to_string(len) + " bytes exceeds the limit");
        return false;
    }
    if (!limit_ || head_checked_ || avail < 4 + kHeaderBytes) return true;
    std::size_t head = std::min<std::size_t>(avail, 4 + std::size_t(len)) - 4 - kHeaderBytes;
    auto cap = limit_(wire::ByteView(buf_.data() + pos_ + 4 + kHeaderBytes, head));
    if (!cap) {
        if (head < len - kHeaderBytes) return true;  // wait for more of the payload
        cap = 0;                                     // complete and still undecided: refuse
    }
    if (len - kHeaderBytes > *cap) {
        fail("frame of " + std::to_string(len) + " bytes exceeds the limit for its kind");
        return false;
    }
    head_checked_ = true;
    return true;
}

bool FrameDecoder::feed(const std::uint8_t* data, std::size_t size) {
    if (!error_.empty()) return false;
    // Compact consumed bytes before growing.
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
        pos_ = 0;
    }
    buf_.insert(buf_.end(), data, data + size);
    return check_head();
}

std::optional<Frame> FrameDecoder::next() {
    if (!error_.empty() || !check_head()) return std::nullopt;
    std::size_t avail = buf_.size() - pos_;
    if (avail < 4) return std::nullopt;
    std::uint32_t len = read_u32(buf_.data() + pos_);
    if (avail - 4 < len || (limit_ && !head_checked_)) return std::nullopt;
    wire::Reader r(wire::ByteView(buf_.data() + pos_ + 4, len));
    Frame f;
    f.id = r.u64();
    auto status = r.u8();
    if (status != 1 && status != 2) {
        fail("bad frame status " + std::to_string(status));
        return std::nullopt;
    }
    f.status = static_cast<FrameStatus>(status);
    auto payload = r.raw(r.remaining());
    f.payload.assign(payload.begin(), payload.end());
    pos_ += 4 + len;
    head_checked_ = false;
    if (pos_ == buf_.size()) {
        // Give a large buffer back once it is drained: idle connections hold little.
        if (buf_.capacity() > (64u << 10)) {
            Bytes().swap(buf_);
        } else {
            buf_.clear();
        }
        pos_ = 0;
    } else {
        check_head();
    }
    return f;
}

}  // namespace veil::sdk::net
