#include "jpeg_scan.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace veil::exif_strip::detail {

namespace {

// After 0xFF inside scan data, anything but a stuffed zero or a restart marker is a marker.
inline bool ends_scan(std::uint8_t next) { return next != 0x00 && (next < 0xD0 || next > 0xD7); }

// Checks the 0xFF bytes flagged in mask (bit k = in[i + k]); returns the marker's index or no_marker.
inline std::size_t first_marker(const std::uint8_t* in, std::size_t i, std::uint64_t mask) {
    while (mask != 0) {
        const std::size_t at = i + static_cast<std::size_t>(__builtin_ctzll(mask));
        if (ends_scan(in[at + 1])) return at;
        mask &= mask - 1;
    }
    return no_marker;
}

}  // namespace

std::size_t copy_until_marker_scalar(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out) {
    for (; i + 1 < size; ++i) {
        out[i] = in[i];
        if (in[i] == 0xFF && ends_scan(in[i + 1])) return i;
    }
    return no_marker;
}

// The vector loops copy 64 bytes a step, then look for 0xFF in them. Stores past the end of
// the scan are overwritten later; the buffer has room as out[i] never passes size + slack.
// They stop 64 bytes before the end so that in[at + 1] is always readable.
#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t copy_until_marker_avx2(const std::uint8_t* in, std::size_t i,
                                                                    std::size_t size, std::uint8_t* out) {
    const __m256i ff = _mm256_set1_epi8(static_cast<char>(0xFF));
    for (; size - i > 64; i += 64) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 32));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), a);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 32), b);
        const std::uint64_t mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, ff))) |
                                   (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, ff)))} << 32);
        if (mask != 0) {
            const std::size_t at = first_marker(in, i, mask);
            if (at != no_marker) return at;
        }
    }
    return copy_until_marker_scalar(in, i, size, out);
}
#endif

std::size_t copy_until_marker_sse2(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out) {
#if defined(__SSE2__)
    const __m128i ff = _mm_set1_epi8(static_cast<char>(0xFF));
    for (; size - i > 64; i += 64) {
        __m128i v[4];
        std::uint64_t mask = 0;
        for (int k = 0; k < 4; ++k) {
            v[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 16 * k));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16 * k), v[k]);
            mask |= std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[k], ff)))} << (16 * k);
        }
        if (mask != 0) {
            const std::size_t at = first_marker(in, i, mask);
            if (at != no_marker) return at;
        }
    }
#endif
    return copy_until_marker_scalar(in, i, size, out);
}

std::size_t copy_until_marker(const std::uint8_t* in, std::size_t i, std::size_t size, std::uint8_t* out) {
#if defined(__x86_64__)
    if (have_avx2()) return copy_until_marker_avx2(in, i, size, out);
#endif
    return copy_until_marker_sse2(in, i, size, out);
}

bool have_avx2() {
#if defined(__x86_64__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    return avx2;
#else
    return false;
#endif
}

}  // namespace veil::exif_strip::detail
