// A photo sent with `veil send ID --file` (the messenger over the attachment contract) on a
// real 9-node testnet through onion routing: a 5 MB JPEG carrying GPS, serial number and author
// reaches both of Bob's devices stripped (exiftool), byte-identical on each, pixels unchanged
// (ImageMagick), saved 0600 under HOME/attachments with its path in `receive --json`. And the
// no-silent-leaks policy: FLAC refused without --keep-metadata, a PDF sent with a notice, the
// corpus TIFF and GIF received stripped with the same pixel signatures.
// ctest labels: attachments, integration.

// GCC 12 with the sanitizers warns inside std::regex (used by testnet_fixture.hpp): a known
// false positive (GCC PR 105562), silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "support/process.hpp"
#include "support/testnet_fixture.hpp"
#include "support/veil_id.hpp"

namespace {

namespace fs = std::filesystem;
using veil::test::Testnet;
using veil::test::run;
using veil::test::run_veil;
using veil::test::slurp;
using veil::test::veil_id_in;

// Enables the attachment plugins in a HOME made by `veil init` (unless init already did).
void enable_attachments(const fs::path& home) {
    auto text = slurp(home / "veil.toml");
    if (text.find("'attachments'") != std::string::npos || text.find("\"attachments\"") != std::string::npos) return;
    auto at = text.find("'messenger'");
    REQUIRE(at != std::string::npos);
    text.insert(at, "'exif-strip', 'attachments', ");
    std::ofstream(home / "veil.toml", std::ios::trunc) << text;
}

std::string init(const Testnet& net, const fs::path& home, std::string* phrase = nullptr) {
    auto r = run_veil({"init", "--home", home.string(), "--network", (net.dir() / "network.toml").string()}, {}, 60000);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto id = veil_id_in(r.out);
    REQUIRE_FALSE(id.empty());
    if (phrase) *phrase = veil::test::recovery_phrase_in(r.out);
    enable_attachments(home);
    return id;
}

void restore(const Testnet& net, const fs::path& home, const std::string& phrase) {
    std::string cmd = "printf '%s\\n' '" + phrase + "' | '" + veil::test::veil_exe() + "' init --home '" + home.string() +
                      "' --network '" + (net.dir() / "network.toml").string() + "' --restore";
    auto r = run({"/bin/sh", "-c", cmd}, {}, 60000);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    enable_attachments(home);
}

// Runs a shell command, returns its standard output (fails the test on a non-zero exit).
std::string sh(const std::string& cmd) {
    auto r = run({"/bin/sh", "-c", cmd}, {}, 60000);
    INFO(cmd << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

// A JPEG of about 5 MB (noise compresses badly) carrying GPS, camera serial number and author.
fs::path make_photo(const fs::path& dir) {
    auto photo = dir / "photo.jpg";
    sh("convert -size 1700x1250 xc: +noise Random -quality 98 '" + photo.string() + "'");
    sh("exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 "
       "-GPSLongitudeRef=E -Make=Canon '-Model=EOS 5D' -SerialNumber=1234567 '-Artist=Alice Realname' '" +
       photo.string() + "'");
    REQUIRE(fs::file_size(photo) > 4'500'000);
    REQUIRE(fs::file_size(photo) < 10'000'000);
    REQUIRE_THAT(sh("exiftool -a -G1 '" + photo.string() + "'"), Catch::Contains("GPS Latitude") && Catch::Contains("1234567"));
    return photo;
}

// The one message a device receives, as `receive --json` prints it.
nlohmann::json receive_one(const fs::path& home) {
    for (int i = 0; i < 6; ++i) {
        auto r = run_veil({"--home", home.string(), "receive", "--wait", "10", "--json"}, {}, 120000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        if (!r.out.empty()) return nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
    }
    FAIL("nothing received");
    return {};
}

}  // namespace

TEST_CASE("attachments - a 5 MB photo with GPS reaches both of Bob's devices stripped and byte-identical",
          "[attachments][integration]") {
    Testnet net(9, 3);
    auto alice = net.dir() / "alice";
    auto bob = net.dir() / "bob";
    auto bob2 = net.dir() / "bob2";
    auto alice_id = init(net, alice);
    std::string phrase;
    auto bob_id = init(net, bob, &phrase);
    restore(net, bob2, phrase);
    // Alice is a contact: a message request's files are not fetched until it is accepted.
    for (const auto& home : {bob, bob2}) {
        REQUIRE(run_veil({"--home", home.string(), "contacts", "add", alice_id, "Alice"}).exit_code == 0);
    }
    auto photo = make_photo(net.dir());

    auto sent = run_veil({"--home", alice.string(), "send", bob_id, "--file", photo.string(), "the tower"}, {}, 180000);
    INFO(sent.err);
    REQUIRE(sent.exit_code == 0);

    std::vector<fs::path> saved;
    for (const auto& home : {bob, bob2}) {
        auto m = receive_one(home);
        INFO(m.dump());
        CHECK(m["text"] == "the tower");
        REQUIRE(m.contains("attachment"));
        CHECK(m["attachment"]["name"] == "photo.jpg");
        CHECK(m["attachment"]["type"] == "image/jpeg");
        fs::path path = m["attachment"]["path"].get<std::string>();
        REQUIRE(fs::exists(path));
        CHECK(fs::equivalent(path.parent_path(), home / "attachments"));
        CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
        saved.push_back(path);
    }
    CHECK(slurp(saved[0]) == slurp(saved[1]));
    auto tags = sh("exiftool -a -G1 -s '" + saved[0].string() + "'");
    INFO(tags);
    for (const char* gone : {"GPS", "SerialNumber", "Artist", "Make", "Model", "Canon"})
        CHECK(tags.find(gone) == std::string::npos);
    // The picture itself is untouched: zero differing pixels.
    auto diff = run({"/bin/sh", "-c", "compare -metric AE '" + photo.string() + "' '" + saved[0].string() + "' null: 2>&1"});
    CHECK(diff.out.substr(0, 1) == "0");
}

// No silent leaks, end to end: media whose metadata cannot be removed is refused unless the
// sender passes --keep-metadata; a document goes unchanged and the sender is told; TIFF and GIF
// arrive stripped with the same pixels.
TEST_CASE("attachments - unknown media needs --keep-metadata, a PDF goes with a notice, TIFF and GIF arrive stripped",
          "[attachments][integration]") {
    Testnet net(9, 3);
    auto alice = net.dir() / "alice";
    auto bob = net.dir() / "bob";
    auto alice_id = init(net, alice);
    auto bob_id = init(net, bob);
    REQUIRE(run_veil({"--home", bob.string(), "contacts", "add", alice_id, "Alice"}).exit_code == 0);
    const fs::path corpus = fs::path(VEIL_SOURCE_DIR) / "tests/data/images";
    auto flac = net.dir() / "song.flac";
    std::ofstream(flac, std::ios::binary) << std::string("fLaC\0\0\0\x22", 8) << "ARTIST=Alice Realname";
    auto pdf = net.dir() / "letter.pdf";
    std::ofstream(pdf, std::ios::binary) << "%PDF-1.4\n1 0 obj << /Author (Alice Realname) >> endobj\n%%EOF\n";
    const auto send = [&](std::vector<std::string> args) {
        std::vector<std::string> all{"--home", alice.string(), "send", bob_id};
        all.insert(all.end(), args.begin(), args.end());
        return run_veil(all, {}, 180000);
    };

    auto refused = send({"--file", flac.string()});
    INFO(refused.err);
    CHECK(refused.exit_code != 0);
    CHECK_THAT(refused.err, Catch::Contains("FLAC audio: its metadata cannot be removed") && Catch::Contains("--keep-metadata"));
    CHECK(send({"--keep-metadata", "hello"}).exit_code != 0);  // the flag is for a file only

    auto kept = send({"--file", flac.string(), "--keep-metadata"});
    INFO(kept.err);
    REQUIRE(kept.exit_code == 0);
    CHECK_THAT(kept.err, Catch::Contains("metadata kept at the sender's request"));
    auto doc = send({"--file", pdf.string()});
    INFO(doc.err);
    REQUIRE(doc.exit_code == 0);
    CHECK_THAT(doc.err, Catch::Contains("PDF document: sent as a file, its contents are not changed"));
    for (const char* image : {"tiff/pages-lzw-full.tif", "gif/animated-full.gif"}) {
        auto r = send({"--file", (corpus / image).string()});
        INFO(image << "\n" << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.find("note:") == std::string::npos);
    }

    std::map<std::string, fs::path> got;  // by file name
    for (int i = 0; i < 12 && got.size() < 4; ++i) {
        auto r = run_veil({"--home", bob.string(), "receive", "--wait", "10", "--json"}, {}, 120000);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) {
            auto m = nlohmann::json::parse(line);
            if (m.contains("attachment")) got[m["attachment"]["name"].get<std::string>()] = m["attachment"]["path"].get<std::string>();
        }
    }
    REQUIRE(got.size() == 4);
    CHECK(slurp(got["song.flac"]) == slurp(flac));  // sent as it is, on request
    CHECK(slurp(got["letter.pdf"]) == slurp(pdf));
    for (const char* image : {"tiff/pages-lzw-full.tif", "gif/animated-full.gif"}) {
        const fs::path original = corpus / image;
        const fs::path received = got[original.filename().string()];
        auto tags = sh("exiftool -a -G1 -s '" + received.string() + "'");
        INFO(image << "\n" << tags);
        for (const char* gone : {"GPS", "Artist", "Make", "Model", "XMP", "IPTC", "Comment", "SubIFD", "SerialNumber"})
            CHECK(tags.find(gone) == std::string::npos);
        CHECK(sh("identify -format '%#\\n' '" + original.string() + "'") == sh("identify -format '%#\\n' '" + received.string() + "'"));
    }
}
