#pragma once
// Finding the end of JPEG entropy-coded data while copying it: the hot loop of stripping.
// Callers guarantee out has room for size - i + 64 bytes from out + i (vector stores may run
// up to 63 bytes past the marker; those bytes are overwritten afterwards).

#include <cstddef>
#include <cstdint>

namespace veil::exif_strip::detail {

inline constexpr std::size_t no_marker = SIZE_MAX;

/// Copies in[i..) to out[i..) up to the first 0xFF that starts a marker (not 0xFF00, not
/// RSTn); returns that 0xFF's index, or no_marker when the data ends first.
/// Picks the AVX2 loop when the CPU has it, else SSE2, else bytewise.
std::size_t copy_until_marker(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out);

/// The three implementations, exposed so tests can check they agree.
std::size_t copy_until_marker_scalar(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out);
std::size_t copy_until_marker_sse2(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out);
#if defined(__x86_64__)
std::size_t copy_until_marker_avx2(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out);
#endif
/// True when copy_until_marker_avx2 may run on this CPU.
bool have_avx2();

}  // namespace veil::exif_strip::detail
