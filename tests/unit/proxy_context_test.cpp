#include "s3ha/proxy/proxy_context.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using s3ha::proxy::format_request_id;

TEST_CASE("request ids: prefix, worker and counter in fixed-width upper-case hex",
          "[unit][proxy]") {
    CHECK(format_request_id(0x1A2B3C4D, 1, 1) == "1A2B3C4D01000001");
    CHECK(format_request_id(0, 0, 0) == "0000000000000000");
    CHECK(format_request_id(0xFFFFFFFF, 0x1FF, 0xFFFFFF) == "FFFFFFFFFFFFFFFF"); // worker: low byte
    CHECK(format_request_id(0xDEADBEEF, 2, 0x1000000) == "DEADBEEF021000000");   // counter widens

    // The same text as the format string the ids were first written with, across the ranges.
    for (std::uint64_t n : {1ULL, 0xABCULL, 0xFFFFFFULL, 0x123456789ULL, ~0ULL}) {
        for (unsigned w : {0U, 7U, 255U}) {
            CHECK(format_request_id(0x00C0FFEE, w, n) ==
                  fmt::format("{:08X}{:02X}{:06X}", 0x00C0FFEEU, w & 0xffU, n));
        }
    }
}
