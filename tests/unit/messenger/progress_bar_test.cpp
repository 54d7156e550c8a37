#include <catch2/catch.hpp>

#include "progress_bar.hpp"

using veil::messenger::progress_bar;

TEST_CASE("messenger - the upload progress bar fills with the bytes sent", "[messenger]") {
    CHECK(progress_bar(0, 5'000'000, 10) == "[..........]   0%  0.0 of 5.0 MB");
    CHECK(progress_bar(2'500'000, 5'000'000, 10) == "[#####.....]  50%  2.5 of 5.0 MB");
    CHECK(progress_bar(5'000'000, 5'000'000, 10) == "[##########] 100%  5.0 of 5.0 MB");
    // More than the total (a retried chunk counted twice) never overflows the bar.
    CHECK(progress_bar(7'000'000, 5'000'000, 10) == "[##########] 100%  5.0 of 5.0 MB");
    CHECK(progress_bar(0, 0, 4) == "[....]   0%  0.0 of 0.0 MB");
}
