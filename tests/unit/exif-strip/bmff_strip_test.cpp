
TEST_CASE("bmff - the processor strips HEIF and movies by content, and honours the formats config", "[attachments]") {
    const Bytes movie = cat({ftyp_mp4, box("moov", cat({mvhd(0), box("udta", text("Alice"))})), box("mdat", text("x"))});
    Attachment a{movie, "application/octet-stream"};
    const auto report = MetadataStripper(StripperConfig{}).process(a);
    CHECK(report.outcome == Outcome::processed);
    CHECK(a.mime_type == "video/mp4");
    CHECK_FALSE(contains(a.bytes, "Alice"));

    StripperConfig no_movies;
    no_movies.mp4 = false;
    Attachment b{movie, "video/mp4"};
    CHECK(MetadataStripper(no_movies).process(b).outcome == Outcome::passed_through);
    CHECK(b.bytes == movie);

    Attachment cut{Bytes(movie.begin(), movie.end() - 3), "video/mp4"};
    CHECK_THROWS_WITH(MetadataStripper(StripperConfig{}).process(cut), Catch::Contains("refused rather than sent with its metadata"));
    Attachment declared{heif(items4, iref4, 1, mdat4), "image/jpeg"};
    CHECK_THROWS_WITH(MetadataStripper(StripperConfig{}).process(declared), Catch::Contains("declared image/jpeg"));
}
