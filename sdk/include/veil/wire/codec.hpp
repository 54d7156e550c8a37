#pragma once
/// Length-checked binary encoding shared by every Veil wire format.
/// Integers are big-endian; variable fields carry a u32 length prefix.
/// Reader never reads past its buffer: every overrun or over-limit length throws DecodeError.
/// Both types are cheap, single-threaded values; Reader does not own the bytes it reads.
/// Part of libveil-sdk (so the kernel and every SDK contract share it without linking crypto).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "veil/sdk/export.hpp"

namespace veil::wire {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Thrown by Reader on truncated, oversized or otherwise malformed input.
class VEIL_SDK_API DecodeError final : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Appends big-endian integers and length-prefixed fields to a growing buffer.
class VEIL_SDK_API Writer final {
public:
    Writer& u8(std::uint8_t v);
    Writer& u16(std::uint16_t v);
    Writer& u32(std::uint32_t v);
    Writer& u64(std::uint64_t v);
    /// Raw bytes with no length prefix (fixed-size fields such as keys).
    Writer& raw(ByteView b);
    /// u32 length prefix, then the bytes.
    Writer& var(ByteView b);
    /// u32 length prefix, then the UTF-8 bytes of s.
    Writer& str(std::string_view s);

    [[nodiscard]] const Bytes& bytes() const& { return out_; }
    /// Moves the buffer out; the writer is empty afterwards.
    [[nodiscard]] Bytes take() { return std::move(out_); }

private:
    Bytes out_;
};

/// Reads what Writer wrote, checking every length against what is left and a caller's limit.
class VEIL_SDK_API Reader final {
public:
    explicit Reader(ByteView in) : in_(in) {}

    std::uint8_t u8();
    std::uint16_t u16();
    std::uint32_t u32();
    std::uint64_t u64();
    /// Exactly n raw bytes.
    ByteView raw(std::size_t n);
    /// A u32-prefixed field of at most max_size bytes.
    ByteView var(std::size_t max_size);
    std::string str(std::size_t max_size);

    [[nodiscard]] std::size_t remaining() const { return in_.size() - pos_; }
    [[nodiscard]] bool done() const { return remaining() == 0; }
    /// Throws unless every byte was consumed (trailing garbage is an error).
    void expect_done() const;

private:
    ByteView in_;
    std::size_t pos_ = 0;
};

/// Lower-case hex of b.
VEIL_SDK_API std::string to_hex(ByteView b);
/// Parses hex (either case); throws DecodeError on odd length or a non-hex character.
VEIL_SDK_API Bytes from_hex(std::string_view hex);

/// Copies exactly N bytes read from the wire into a fixed array; throws DecodeError otherwise.
template <std::size_t N>
[[nodiscard]] std::array<std::uint8_t, N> to_array(ByteView b) {
    if (b.size() != N) throw DecodeError("wire: fixed field of wrong size");
    std::array<std::uint8_t, N> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

}  // namespace veil::wire
