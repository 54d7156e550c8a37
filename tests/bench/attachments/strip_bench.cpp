// Benchmark: metadata stripping of a large JPEG (24 MP, camera metadata spliced in), a large
// TIFF (6 MP uncompressed, 18 MB, in 250 strips, with text tags, XMP and a GPS IFD), a 12 MP
// HEIC (libheif's heif-enc, with Exif, XMP and a thumbnail) and a 20 MB MP4 (ffmpeg, with
// QuickTime tags and location), as a ratio to memcpy of the same bytes measured in the same
// run (goal >= 0.5). The HEIC and MP4 are made on the first run (heif-enc takes minutes on a
// busy machine) and kept in $TMPDIR/veil-strip-bench; without heif-enc/ffmpeg they are skipped,
// with a message.
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

#include "bmff_strip.hpp"
#include "jpeg_strip.hpp"
#include "tiff_strip.hpp"

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

// A little-endian TIFF: width x height RGB noise in strips of 8 rows, Artist, Make, an XMP
// packet and a GPS IFD, IFD0 at the end as many writers put it.
Bytes make_tiff(std::uint32_t width, std::uint32_t height) {
    const std::uint32_t rows = 8, strips = (height + rows - 1) / rows, strip_bytes = width * rows * 3;
    Bytes b{'I', 'I', 42, 0, 0, 0, 0, 0};
    const auto put32 = [&b](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    const auto add32 = [&b](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    std::uint32_t seed = 777;
    const std::size_t pixels_at = b.size();
    b.resize(pixels_at + static_cast<std::size_t>(strips) * strip_bytes);
    for (std::size_t i = pixels_at; i < b.size(); ++i) {
        seed = seed * 1664525u + 1013904223u;
        b[i] = static_cast<std::uint8_t>(seed >> 24);
    }
    const auto at = [&b] { return static_cast<std::uint32_t>(b.size()); };
    const std::uint32_t offsets_at = at();
    for (std::uint32_t s = 0; s < strips; ++s) add32(static_cast<std::uint32_t>(pixels_at) + s * strip_bytes);
    const std::uint32_t counts_at = at();
    for (std::uint32_t s = 0; s < strips; ++s) add32(strip_bytes);
    const std::uint32_t bps_at = at();
    b.insert(b.end(), {8, 0, 8, 0, 8, 0});
    const std::string artist = "Alice Example", xmp(4000, 'x');
    const std::uint32_t artist_at = at();
    b.insert(b.end(), artist.begin(), artist.end());
    b.push_back(0);
    const std::uint32_t xmp_at = at();
    b.insert(b.end(), xmp.begin(), xmp.end());
    const std::uint32_t gps_at = at();
    b.insert(b.end(), {1, 0, 1, 0, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0, 0, 0, 0, 0});
    struct E {
        std::uint16_t tag, type;
        std::uint32_t count, value;
    };
    const std::vector<E> entries = {{256, 4, 1, width},      {257, 4, 1, height},   {258, 3, 3, bps_at},
                                    {259, 3, 1, 1},          {262, 3, 1, 2},        {271, 2, 4, 0x004B494E},
                                    {273, 4, strips, offsets_at}, {274, 3, 1, 6},   {277, 3, 1, 3},
                                    {278, 3, 1, rows},       {279, 4, strips, counts_at},
                                    {315, 2, static_cast<std::uint32_t>(artist.size() + 1), artist_at},
                                    {700, 1, static_cast<std::uint32_t>(xmp.size()), xmp_at}, {34853, 4, 1, gps_at}};
    put32(4, at());
    b.push_back(static_cast<std::uint8_t>(entries.size()));
    b.push_back(0);
    for (const E& e : entries) {
        b.insert(b.end(), {static_cast<std::uint8_t>(e.tag), static_cast<std::uint8_t>(e.tag >> 8),
                           static_cast<std::uint8_t>(e.type), 0});
        add32(e.count);
        add32(e.value);
    }
    add32(0);
    return b;
}

// Seconds one call of f takes.
template <typename F>
double seconds(F&& f) {
    const auto t0 = Clock::now();
    f();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

using StripFn = void (*)(ByteView, const StripOptions&, StripResult&);

void write_file(const std::filesystem::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

// Runs a shell command that makes `file` unless it already exists; empty when it fails.
Bytes made_by(const std::filesystem::path& file, const std::string& command) {
    if (!std::filesystem::exists(file)) {
        std::printf("making %s (once) ...\n", file.c_str());
        std::fflush(stdout);
        if (std::system(command.c_str()) != 0) {
            std::filesystem::remove(file);
            return {};
        }
    }
    return read_file(file);
}

// A 12 MP HEIC (4032x3024, as a phone takes) from a JPEG carrying the corpus camera metadata.
Bytes make_heic(const std::filesystem::path& dir, const Bytes& jpeg_with_metadata) {
    const auto jpeg = dir / "12mp.jpg";
    const auto heic = dir / "12mp.heic";
    if (!std::filesystem::exists(heic)) write_file(jpeg, jpeg_with_metadata);
    return made_by(heic, "heif-enc -q 50 -t 320 '" + jpeg.string() + "' -o '" + heic.string() + "' >/dev/null");
}

// A 20 MB 1080p MP4 with audio, QuickTime/iTunes tags, location and creation time.
Bytes make_mp4(const std::filesystem::path& dir) {
    const auto mp4 = dir / "20mb.mp4";
    return made_by(mp4, "ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000"
                        " -t 4 -vf noise=alls=12:allf=t -c:v libx264 -preset ultrafast -b:v 39M -maxrate 39M -bufsize 10M -c:a aac -metadata title=Holiday"
                        " -metadata artist=Alice -metadata location=+48.8584+002.2945/ -metadata creation_time=2026-05-01T12:34:56Z"
                        " -movflags +use_metadata_tags '" + mp4.string() + "'");
}

void run(const char* label, const Bytes& jpeg, int rounds, bool interleaved, StripFn strip_fn = strip_jpeg) {
    std::vector<std::uint8_t> dst(jpeg.size());
    std::memset(dst.data(), 1, dst.size());  // touch the pages: memcpy is the raw limit
    StripResult reused;
    strip_fn(jpeg, StripOptions{}, reused);  // warm: buffer allocated once
    const auto copy = [&] {
        std::memcpy(dst.data(), jpeg.data(), jpeg.size());
        asm volatile("" : : "r"(dst.data()) : "memory");
    };
    const auto strip = [&] { strip_fn(jpeg, StripOptions{}, reused); };
    const auto strip_fresh = [&] {
        StripResult fresh;
        strip_fn(jpeg, StripOptions{}, fresh);
    };
    // "hot": each operation repeated back to back (its data stays in cache);
    // "interleaved": the three alternate round by round (each starts from a colder cache).
    // Both keep each operation's best round.
    double memcpy_s = 1e9, strip_s = 1e9, fresh_s = 1e9;
    if (!interleaved) {
        for (int r = 0; r < rounds; ++r) memcpy_s = std::min(memcpy_s, seconds(copy));
        for (int r = 0; r < rounds; ++r) strip_s = std::min(strip_s, seconds(strip));
        for (int r = 0; r < rounds; ++r) fresh_s = std::min(fresh_s, seconds(strip_fresh));
    } else {
        for (int r = 0; r < rounds; ++r) {
            memcpy_s = std::min(memcpy_s, seconds(copy));
            strip_s = std::min(strip_s, seconds(strip));
            fresh_s = std::min(fresh_s, seconds(strip_fresh));
        }
    }
    const double mb = static_cast<double>(jpeg.size()) / 1e6;
    std::printf("%-12s %-11s %5.2f MB  memcpy %7.0f MB/s  strip %7.0f MB/s (ratio %.2f)  strip+alloc %7.0f MB/s (ratio %.2f)  removed %zu blocks, %zu bytes\n",
                label, interleaved ? "interleaved" : "hot", mb, mb / memcpy_s, mb / strip_s, memcpy_s / strip_s, mb / fresh_s, memcpy_s / fresh_s,
                reused.removed.size(), jpeg.size() - reused.bytes.size());  // BMFF works in place: 0 bytes
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
    std::printf("exif-strip benchmark: 6000x4000 JPEG, 3000x2000 TIFF, 12 MP HEIC, 20 MB MP4 with camera metadata; ratio = strip speed / memcpy speed (goal >= 0.5)\n");
    const Bytes baseline = with_metadata(make_jpeg(6000, 4000, false));
    const Bytes progressive = with_metadata(make_jpeg(6000, 4000, true));
    const Bytes tiff = make_tiff(3000, 2000);
    const auto dir = std::filesystem::temp_directory_path() / "veil-strip-bench";
    std::filesystem::create_directories(dir);
    const Bytes heic = make_heic(dir, with_metadata(make_jpeg(4032, 3024, false)));
    const Bytes mp4 = make_mp4(dir);
    if (heic.empty()) std::printf("12 MP HEIC skipped: heif-enc (libheif-examples) failed or is missing\n");
    if (mp4.empty()) std::printf("20 MB MP4 skipped: ffmpeg failed or is missing\n");
    for (const bool interleaved : {false, true}) {
        run("baseline", baseline, rounds, interleaved);
        run("progressive", progressive, rounds, interleaved);
        run("tiff", tiff, rounds, interleaved, strip_tiff);
        if (!heic.empty()) run("heic-12mp", heic, rounds, interleaved, strip_bmff);
        if (!mp4.empty()) run("mp4-20mb", mp4, rounds, interleaved, strip_bmff);
    }
    return 0;
}
