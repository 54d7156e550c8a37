// The three scan-data loops (AVX2, SSE2, bytewise) find the same marker and copy the same bytes.

#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "jpeg_scan.hpp"
#include "strip_types.hpp"

using namespace veil::exif_strip;
using namespace veil::exif_strip::detail;

namespace {

using ScanFn = std::size_t (*)(const std::uint8_t*, std::size_t, std::size_t, std::uint8_t*);

// Runs fn over in from `start`; returns the marker index and the bytes it copied before it.
std::pair<std::size_t, Bytes> run(ScanFn fn, const Bytes& in, std::size_t start) {
    Bytes out(in.size() + 64, 0xAA);
    const std::size_t at = fn(in.data(), start, in.size(), out.data());
    const std::size_t copied = at == no_marker ? 0 : at;
    return {at, Bytes(out.begin() + static_cast<std::ptrdiff_t>(start), out.begin() + static_cast<std::ptrdiff_t>(std::max(start, copied)))};
}

}  // namespace

TEST_CASE("attachments - jpeg scan loops agree on random scan data", "[attachments]") {
    std::mt19937 rng(7);
    std::vector<ScanFn> fns{&copy_until_marker_scalar, &copy_until_marker_sse2, &copy_until_marker};
#if defined(__x86_64__)
    if (have_avx2()) fns.push_back(&copy_until_marker_avx2);
#endif
    const std::uint8_t followers[] = {0x00, 0xD0, 0xD7, 0xD9, 0xC4, 0xFF, 0x01};
    for (int round = 0; round < 3000; ++round) {
        Bytes in(1 + rng() % 700);
        for (auto& b : in) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0xFF : rng());
        for (std::size_t k = 0; k + 1 < in.size(); ++k) {
            if (in[k] == 0xFF) in[k + 1] = followers[rng() % (round % 2 == 0 ? 3 : 7)];  // even rounds: no marker
        }
        const std::size_t start = rng() % in.size();
        const auto want = run(fns[0], in, start);
        for (std::size_t f = 1; f < fns.size(); ++f) {
            INFO("round " << round << " implementation " << f << " size " << in.size() << " start " << start);
            CHECK(run(fns[f], in, start) == want);
        }
        if (want.first != no_marker) {
            CHECK(in[want.first] == 0xFF);
            CHECK(std::memcmp(want.second.data(), in.data() + start, want.second.size()) == 0);
        }
    }
}
