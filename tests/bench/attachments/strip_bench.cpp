// Benchmark: metadata stripping of a large JPEG (24 MP, camera metadata spliced in), as a ratio
// to memcpy of the same bytes measured in the same run (goal >= 0.5).
// Usage: veil_attachments_strip_bench [ROUNDS]

#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "jpeg_strip.hpp"

using namespace veil::exif_strip;
using Clock = std::chrono::steady_clock;

namespace {

// A photo-like 6000x4000 picture: smooth gradients plus sensor-like noise (fixed seed).
Bytes make_jpeg(int width, int height, bool progressive) {
    std::vector<unsigned char> rgb(static_cast<std::size_t>(width) * height * 3);
    std::uint32_t seed = 12345;
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            seed = seed * 1664525u + 1013904223u;
            const int noise = static_cast<int>(seed >> 27) - 16;
            unsigned char* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
            p[0] = static_cast<unsigned char>(std::clamp(x * 255 / width + noise, 0, 255));
            p[1] = static_cast<unsigned char>(std::clamp(y * 255 / height + noise, 0, 255));
            p[2] = static_cast<unsigned char>(std::clamp(((x ^ y) & 255) / 2 + 64 + noise, 0, 255));
        }
    }
    tjhandle tj = tjInitCompress();
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    const int flags = TJFLAG_ACCURATEDCT | (progressive ? TJFLAG_PROGRESSIVE : 0);
    if (tjCompress2(tj, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, 92, flags) != 0) {
        throw std::runtime_error(std::string("tjCompress2: ") + tjGetErrorStr2(tj));
    }
    Bytes out(jpeg, jpeg + size);
    tjFree(jpeg);
    tjDestroy(tj);
    return out;
}

// Puts the camera metadata of the corpus photo (EXIF+GPS+maker note, thumbnail, XMP, IPTC,
// ICC, comment) after SOI of the big picture, and a trailer after its EOI.
Bytes with_metadata(const Bytes& image) {
    const auto path = std::filesystem::path(VEIL_SOURCE_DIR) / "tests/data/images/jpeg/baseline-full.jpg";
    std::ifstream f(path, std::ios::binary);
    const Bytes donor(std::istreambuf_iterator<char>(f), {});
    if (donor.size() < 4) throw std::runtime_error("cannot read " + path.string());
    std::size_t end = 2;  // the donor's APPn/COM segments
    while (end + 4 <= donor.size() && donor[end] == 0xFF && ((donor[end + 1] >= 0xE1 && donor[end + 1] <= 0xEF) || donor[end + 1] == 0xFE || donor[end + 1] == 0xE0)) {
        end += 2 + ((donor[end + 2] << 8) | donor[end + 3]);
    }
    Bytes out(image.begin(), image.begin() + 2);
    out.insert(out.end(), donor.begin() + 2, donor.begin() + static_cast<std::ptrdiff_t>(end));
    out.insert(out.end(), image.begin() + 2, image.end());
    const std::string trailer = "TRAILER: device serial 3020551";
    out.insert(out.end(), trailer.begin(), trailer.end());
    return out;
}

// Best time of `rounds` runs of f, in seconds.
template <typename F>
double best_seconds(int rounds, F&& f) {
    double best = 1e9;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = Clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    return best;
}

void run(const char* label, const Bytes& jpeg, int rounds) {
    std::vector<std::uint8_t> dst(jpeg.size());
    std::memset(dst.data(), 1, dst.size());  // touch the pages: memcpy is the raw limit
    const double memcpy_s = best_seconds(rounds, [&] {
        std::memcpy(dst.data(), jpeg.data(), jpeg.size());
        asm volatile("" : : "r"(dst.data()) : "memory");
    });
    StripResult reused;
    strip_jpeg(jpeg, StripOptions{}, reused);  // warm: buffer allocated once
    const double strip_s = best_seconds(rounds, [&] { strip_jpeg(jpeg, StripOptions{}, reused); });
    const double fresh_s = best_seconds(rounds, [&] {
        StripResult fresh;
        strip_jpeg(jpeg, StripOptions{}, fresh);
    });
    const double mb = static_cast<double>(jpeg.size()) / 1e6;
    std::printf("%-12s %7.2f MB  memcpy %7.0f MB/s  strip %7.0f MB/s (ratio %.2f)  strip+alloc %7.0f MB/s (ratio %.2f)  removed %zu blocks, %zu bytes\n",
                label, mb, mb / memcpy_s, mb / strip_s, memcpy_s / strip_s, mb / fresh_s, memcpy_s / fresh_s,
                reused.removed.size(), jpeg.size() - reused.bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
    std::printf("exif-strip benchmark: 6000x4000 JPEG with camera metadata; ratio = strip speed / memcpy speed (goal >= 0.5)\n");
    run("baseline", with_metadata(make_jpeg(6000, 4000, false)), rounds);
    run("progressive", with_metadata(make_jpeg(6000, 4000, true)), rounds);
    return 0;
}
