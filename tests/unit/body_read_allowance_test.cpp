#include "s3ha/proxy/body_read_allowance.hpp"

#include <catch2/catch.hpp>

using s3ha::proxy::body_read_allowance;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

TEST_CASE("body_min_rate 0: every read gets body_read_timeout", "[unit][proxy][body_rate]") {
    CHECK(body_read_allowance(60s, 0, 0, 0s) == 60s);
    CHECK(body_read_allowance(60s, 0, 1, std::chrono::hours(1000)) == 60s);
}

TEST_CASE("body_min_rate: body_read_timeout plus 1 s per min_rate bytes, of waiting",
          "[unit][proxy][body_rate]") {
    // mod_reqtimeout's MinRate: the allowance starts at body_read_timeout ...
    CHECK(body_read_allowance(3s, 1024, 0, 0s) == 3s);
    CHECK(body_read_allowance(3s, 1024, 0, 2500ms) == 500ms);
    CHECK(body_read_allowance(3s, 1024, 0, 3s) == 0ms);
    CHECK(body_read_allowance(3s, 1024, 0, 10s) == 0ms);
    // ... and grows by one second per min_rate bytes received ...
    CHECK(body_read_allowance(3s, 1024, 1024, 3s) == 1s);
    CHECK(body_read_allowance(3s, 1024, 512, 3s) == 500ms);
    CHECK(body_read_allowance(3s, 1024, 10 * 1024, 12s) == 1s);
    // ... while body_read_timeout still bounds each single wait.
    CHECK(body_read_allowance(3s, 1024, 1024 * 1024, 0s) == 3s);
    CHECK(body_read_allowance(3s, 1024, 1024 * 1024, 1000s) == 3s);
}

TEST_CASE("body_min_rate: a drip of 100 bytes a second is cut off, 2 KiB a second is not",
          "[unit][proxy][body_rate]") {
    auto cut_after = [](std::uint64_t bytes_per_second) -> ms {
        // One piece a second; each read waits for it (or until its timeout).
        std::uint64_t received = 0;
        std::chrono::steady_clock::duration waited{};
        for (int i = 0; i < 600; ++i) {
            const auto timeout = body_read_allowance(3s, 1024, received, waited);
            if (timeout < 1s) return std::chrono::duration_cast<ms>(waited + timeout);
            waited += 1s;
            received += bytes_per_second;
        }
        return ms::max();
    };
    const auto drip = cut_after(100);
    CHECK(drip >= 3s);
    CHECK(drip <= 4s); // 3 s + 0.1 s per second of waiting: about 3.3 s
    CHECK(cut_after(2048) == ms::max());
    CHECK(cut_after(1024) == ms::max()); // exactly the minimum keeps up
}

TEST_CASE("body_min_rate: no overflow at the extremes", "[unit][proxy][body_rate]") {
    CHECK(body_read_allowance(60s, 1, UINT64_MAX, 0s) == 60s);
    CHECK(body_read_allowance(60s, UINT64_MAX, UINT64_MAX, 0s) == 60s);
    CHECK(body_read_allowance(60s, 1024, 0, std::chrono::steady_clock::duration::max()) == 0ms);
    CHECK(body_read_allowance(60s, 1024, 0, -5s) == 60s); // a clock going back: no extra time
}
