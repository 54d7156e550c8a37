#include "veil/wire/codec.hpp"

#include <sodium.h>

namespace veil::wire {

Writer& Writer::u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
}

Writer& Writer::u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v));
}

Writer& Writer::u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
}

Writer& Writer::u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v));
}

Writer& Writer::raw(ByteView b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
}

Writer& Writer::var(ByteView b) {
    if (b.size() > UINT32_MAX) throw std::length_error("wire: field longer than 4 GiB");
    return u32(static_cast<std::uint32_t>(b.size())).raw(b);
}

Writer& Writer::str(std::string_view s) {
    return var({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

ByteView Reader::raw(std::size_t n) {
    if (n > remaining()) {
        throw DecodeError("wire: truncated input (need " + std::to_string(n) + " bytes, have " +
                          std::to_string(remaining()) + ")");
    }
    ByteView out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
}

std::uint8_t Reader::u8() { return raw(1)[0]; }

std::uint16_t Reader::u16() {
    auto b = raw(2);
    return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

std::uint32_t Reader::u32() {
    std::uint32_t hi = u16();
    return (hi << 16) | u16();
}

std::uint64_t Reader::u64() {
    std::uint64_t hi = u32();
    return (hi << 32) | u32();
}

ByteView Reader::var(std::size_t max_size) {
    std::uint32_t n = u32();
    if (n > max_size) {
        throw DecodeError("wire: field of " + std::to_string(n) + " bytes exceeds limit of " +
                          std::to_string(max_size));
    }
    return raw(n);
}

std::string Reader::str(std::size_t max_size) {
    auto b = var(max_size);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void Reader::expect_done() const {
    if (!done()) throw DecodeError("wire: " + std::to_string(remaining()) + " trailing bytes");
}

std::string to_hex(ByteView b) {
    std::string out(b.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), b.data(), b.size());
    out.pop_back();
    return out;
}

Bytes from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) throw DecodeError("hex: odd number of digits");
    if (hex.empty()) return {};  // libsodium must not get a null pointer
    Bytes out(hex.size() / 2);
    std::size_t n = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &n, &end) != 0 ||
        n != out.size() || end != hex.data() + hex.size()) {
        throw DecodeError("hex: not a hex string");
    }
    return out;
}

}  // namespace veil::wire
