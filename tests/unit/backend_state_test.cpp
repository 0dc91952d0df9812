#include "s3ha/upstream/backend_state.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <set>

using namespace s3ha;
using namespace s3ha::upstream;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

health_check_config hc_with(unsigned rise, unsigned fall) {
    health_check_config hc;
    hc.rise = rise;
    hc.fall = fall;
    hc.interval = 1000ms;
    hc.jitter = 100ms;
    hc.max_backoff = 8000ms;
    return hc;
}

const steady_time t0{std::chrono::hours(1)};

} // namespace

TEST_CASE("backend_state: the first result decides, then rise/fall apply", "[unit][pool]") {
    backend_state s(hc_with(2, 3), t0);
    CHECK_FALSE(s.checked());
    CHECK_FALSE(s.up());
    CHECK(s.record_check(true, 5ms, "status 200", t0 + 1s) == transition::went_up);
    CHECK(s.up());
    CHECK(s.since() == t0 + 1s);

    // fall = 3: two failures are a blip, the third takes it down.
    CHECK(s.record_check(false, 5ms, "status 503", t0 + 2s) == transition::none);
    CHECK(s.record_failure(failure_kind::connect_failed, t0 + 3s) == transition::none);
    CHECK(s.up());
    CHECK(s.record_check(false, 5ms, "status 503", t0 + 4s) == transition::went_down);
    CHECK_FALSE(s.up());
    CHECK(s.since() == t0 + 4s);
    CHECK(s.last_failure() == t0 + 4s);

    // rise = 2: one success is not enough; a failure in between restarts the count.
    CHECK(s.record_check(true, 5ms, "status 200", t0 + 5s) == transition::none);
    CHECK(s.record_check(false, 5ms, "status 503", t0 + 6s) == transition::none);
    CHECK(s.record_check(true, 5ms, "status 200", t0 + 7s) == transition::none);
    CHECK_FALSE(s.up());
    CHECK(s.record_check(true, 5ms, "status 200", t0 + 8s) == transition::went_up);
    CHECK(s.up());

    const auto v = s.view();
    CHECK(v.consecutive_successes == 2);
    CHECK(v.consecutive_failures == 0);
    CHECK(v.last_check_ok);
    CHECK(v.last_check_latency == 5ms);
    CHECK(v.last_check_detail == "status 200");
    CHECK(v.failures[static_cast<std::size_t>(failure_kind::check_failed)] == 3);
    CHECK(v.failures[static_cast<std::size_t>(failure_kind::connect_failed)] == 1);
}

TEST_CASE("backend_state: alternating blips never flap an up backend", "[unit][pool]") {
    backend_state s(hc_with(2, 2), t0);
    s.record_check(true, 1ms, "ok", t0);
    for (int i = 0; i < 50; ++i) {
        CHECK(s.record_check(false, 1ms, "blip", t0 + std::chrono::seconds(2 * i + 1)) ==
              transition::none);
        CHECK(s.record_check(true, 1ms, "ok", t0 + std::chrono::seconds(2 * i + 2)) ==
              transition::none);
    }
    // Passive blips between real successes do not add up either.
    for (int i = 0; i < 50; ++i) {
        CHECK(s.record_failure(failure_kind::reset, t0 + std::chrono::seconds(200 + 2 * i)) ==
              transition::none);
        CHECK(s.record_success(t0 + std::chrono::seconds(201 + 2 * i)) == transition::none);
    }
    CHECK(s.up());
    CHECK(s.since() == t0);
}

TEST_CASE("backend_state: real traffic does not cancel failing health checks", "[unit][pool]") {
    // A MinIO that lost write quorum: its cluster health says 503 while GETs still succeed.
    backend_state s(hc_with(2, 2), t0);
    s.record_check(true, 1ms, "ok", t0);
    CHECK(s.record_check(false, 1ms, "status 503", t0 + 1s) == transition::none);
    CHECK(s.record_success(t0 + 2s) == transition::none);
    CHECK(s.record_success(t0 + 3s) == transition::none);
    CHECK(s.record_check(false, 1ms, "status 503", t0 + 4s) == transition::went_down);
}

TEST_CASE("backend_state: passive signals", "[unit][pool]") {
    backend_state s(hc_with(2, 2), t0);
    // An unchecked backend's first real result decides too.
    CHECK(s.record_failure(failure_kind::timeout, t0) == transition::went_down);
    // A real success never brings a down backend up (only checks do).
    CHECK(s.record_success(t0 + 1s) == transition::none);
    CHECK(s.record_success(t0 + 2s) == transition::none);
    CHECK_FALSE(s.up());
    s.record_check(true, 1ms, "ok", t0 + 3s);
    CHECK(s.record_check(true, 1ms, "ok", t0 + 4s) == transition::went_up);
    // Passive failures count towards fall.
    CHECK(s.record_failure(failure_kind::bad_status, t0 + 5s) == transition::none);
    CHECK(s.record_failure(failure_kind::reset, t0 + 6s) == transition::went_down);
}

TEST_CASE("backend_state: back-off doubles, is capped and jittered within bounds", "[unit][pool]") {
    backend_state s(hc_with(1, 1), t0);
    std::mt19937_64 rng(42);
    auto within = [&](milliseconds lo, milliseconds hi) {
        for (int i = 0; i < 200; ++i) {
            const auto d = s.next_check_delay(rng);
            if (d < lo || d > hi) return false;
        }
        return true;
    };
    // Unchecked and up: interval + [0, jitter].
    CHECK(within(1000ms, 1100ms));
    s.record_check(true, 1ms, "ok", t0);
    CHECK(within(1000ms, 1100ms));

    s.record_check(false, 1ms, "down", t0 + 1s); // down, no failed probe yet: interval
    CHECK(within(1000ms, 1100ms));
    const milliseconds expected[] = {2000ms, 4000ms, 8000ms, 8000ms, 8000ms};
    for (auto base : expected) {
        s.record_check(false, 1ms, "still down", t0 + 2s);
        // jitter scales with the back-off factor: U[0, jitter * base / interval]
        CHECK(within(base, base + base / 10));
    }
    // The jitter actually varies (not a constant).
    std::set<long> seen;
    for (int i = 0; i < 50; ++i)
        seen.insert(s.next_check_delay(rng).count());
    CHECK(seen.size() > 10);

    // A success while rising goes back to the plain interval.
    backend_state r(hc_with(3, 1), t0);
    r.record_check(false, 1ms, "x", t0);
    r.record_check(false, 1ms, "x", t0);
    r.record_check(true, 1ms, "ok", t0);
    std::mt19937_64 rng2(1);
    const auto d = r.next_check_delay(rng2);
    CHECK(d >= 1000ms);
    CHECK(d <= 1100ms);
}

TEST_CASE("backend_state: in-flight guard and drain", "[unit][pool]") {
    backend_state s(hc_with(1, 1), t0);
    {
        in_flight_guard a(s);
        CHECK(s.in_flight() == 1);
        in_flight_guard b(s);
        in_flight_guard moved(std::move(b));
        CHECK(s.in_flight() == 2);
        moved.release();
        moved.release();
        CHECK(s.in_flight() == 1);
    }
    CHECK(s.in_flight() == 0);
    s.set_drained(true);
    CHECK(s.drained());
    CHECK(s.view().drained);
}
