// Reading the orientation tag out of EXIF blocks of both byte orders, and bad blocks.

#include <catch2/catch.hpp>

#include "exif_orientation.hpp"

using namespace veil::exif_strip;

TEST_CASE("attachments - orientation round-trips through the minimal EXIF block", "[attachments]") {
    for (std::uint16_t o = 1; o <= 8; ++o) {
        const Bytes block = make_orientation_exif(o);
        CHECK(read_exif_orientation(block) == o);
        Bytes prefixed{'E', 'x', 'i', 'f', 0, 0};
        prefixed.insert(prefixed.end(), block.begin(), block.end());
        CHECK(read_exif_orientation(prefixed) == o);
    }
}

TEST_CASE("attachments - orientation from a little-endian block with other tags", "[attachments]") {
    // II, 42, IFD0 at 8; two entries: Make (ASCII, inline "ab"), Orientation = 7.
    const Bytes le{'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0,
                   0x0F, 0x01, 2, 0, 3, 0, 0, 0, 'a', 'b', 0, 0,
                   0x12, 0x01, 3, 0, 1, 0, 0, 0, 7, 0, 0, 0,
                   0, 0, 0, 0};
    CHECK(read_exif_orientation(le) == 7);
}

TEST_CASE("attachments - malformed EXIF yields no orientation and no overread", "[attachments]") {
    Bytes block = make_orientation_exif(6);
    CHECK(read_exif_orientation(ByteView(block).first(20)) == 0);  // entry cut short
    Bytes bad_value = block;
    bad_value[19] = 9;  // orientation 9 does not exist
    CHECK(read_exif_orientation(bad_value) == 0);
    Bytes far_ifd = block;
    far_ifd[4] = 0xFF;  // IFD0 offset past the end
    CHECK(read_exif_orientation(far_ifd) == 0);
    Bytes many = block;
    many[8] = 0xFF;  // 65280 entries claimed
    CHECK(read_exif_orientation(many) == 6);  // the real one is first
    many[11] = 0x13;  // and now it is not the orientation tag
    CHECK(read_exif_orientation(many) == 0);
    CHECK(read_exif_orientation(Bytes{'X', 'X', 42, 0, 0, 0, 0, 8}) == 0);
}

TEST_CASE("attachments - a block of 8 to 11 bytes is not read past its end", "[attachments]") {
    // A 10-byte block whose IFD0 (at 8) claims one entry, followed (outside the block) by bytes
    // that would read as orientation 6: found by the PNG fuzzer, where the block is an eXIf
    // chunk at the very end of the file.
    Bytes buffer{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1};
    const Bytes outside{0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0};
    buffer.insert(buffer.end(), outside.begin(), outside.end());
    for (std::size_t size = 8; size < 12; ++size) {
        CHECK(read_exif_orientation(ByteView(buffer).first(size)) == 0);
    }
    // The same entry inside the block is read.
    CHECK(read_exif_orientation(ByteView(buffer).first(buffer.size())) == 6);
}
