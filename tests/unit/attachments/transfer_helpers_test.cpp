// Small pieces of the client's transfers: sizes for people, received file names that cannot
// escape their directory, content types from magic bytes.

#include <catch2/catch.hpp>

#include "transfer.hpp"

using namespace veil::attachments;

TEST_CASE("attachments - sizes are said in MB", "[attachments]") {
    CHECK(megabytes(10ull << 20) == "10 MB");
    CHECK(megabytes(12'897'485) == "12.3 MB");
    CHECK(megabytes(200'000) == "0.2 MB");
}

TEST_CASE("attachments - a received file name is a plain base name", "[attachments]") {
    CHECK(safe_file_name("photo.jpg") == "photo.jpg");
    CHECK(safe_file_name("../../etc/passwd") == "passwd");
    CHECK(safe_file_name("C:\\Users\\x\\report.pdf") == "report.pdf");
    CHECK(safe_file_name("..") == "attachment");
    CHECK(safe_file_name(".bashrc") == "bashrc");
    CHECK(safe_file_name("") == "attachment");
    CHECK(safe_file_name("a\nb\x1b[31m.txt") == "ab[31m.txt");
    CHECK(safe_file_name(std::string(500, 'x')).size() == 200);
}

TEST_CASE("attachments - content types come from the bytes first, then the name", "[attachments]") {
    CHECK(guess_mime_type({0xff, 0xd8, 0xff, 0xe0}, "x.bin") == "image/jpeg");
    CHECK(guess_mime_type({0x89, 'P', 'N', 'G'}, "") == "image/png");
    CHECK(guess_mime_type({'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'}, "") == "image/webp");
    CHECK(guess_mime_type({'%', 'P', 'D', 'F'}, "") == "application/pdf");
    CHECK(guess_mime_type({'f', 'L', 'a', 'C'}, "") == "audio/flac");
    CHECK(guess_mime_type({'h', 'i'}, "notes.TXT") == "text/plain");
    CHECK(guess_mime_type({}, "data") == "application/octet-stream");
}

TEST_CASE("attachments - a file goes out under a neutral name from its type", "[attachments]") {
    CHECK(neutral_file_name("image/jpeg") == "image.jpg");
    CHECK(neutral_file_name("image/heic") == "image.heic");
    CHECK(neutral_file_name("video/quicktime") == "video.mov");
    CHECK(neutral_file_name("video/mp4") == "video.mp4");
    CHECK(neutral_file_name("application/pdf") == "file.pdf");
    CHECK(neutral_file_name("audio/flac") == "audio.flac");
    CHECK(neutral_file_name("application/octet-stream") == "file");
    CHECK(neutral_file_name("") == "file");
}
