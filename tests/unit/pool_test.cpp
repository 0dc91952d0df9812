#include "s3ha/upstream/pool.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace s3ha;
using namespace s3ha::upstream;
using namespace std::chrono_literals;

namespace {

struct manual_clock {
    steady_time t{std::chrono::hours(1)};
    pool::clock_fn fn() {
        return [this] { return t; };
    }
};

std::vector<std::shared_ptr<const backend>> make(unsigned n) {
    std::vector<std::shared_ptr<const backend>> out;
    for (unsigned i = 0; i < n; ++i) {
        backend_config c;
        c.name = "b" + std::to_string(i);
        c.endpoint.host = "127.0.0.1";
        c.endpoint.port = static_cast<std::uint16_t>(9000 + i);
        c.priority = i + 1;
        c.health_check.rise = 2;
        c.health_check.fall = 2;
        out.push_back(std::make_shared<const backend>(c, i));
    }
    return out;
}

routing_config with_policy(routing_policy p) {
    routing_config r;
    r.policy = p;
    return r;
}

void all_up(pool& p) {
    for (std::size_t i = 0; i < p.backends().size(); ++i)
        p.record_check(i, true, 1ms, "status 200");
}

void take_down(pool& p, std::size_t i) {
    for (int k = 0; k < 2; ++k)
        p.record_check(i, false, 1ms, "status 503");
}

std::string pick_name(pool& p, unsigned attempt = 0, std::span<const std::size_t> tried = {}) {
    const auto* b = p.select(attempt, tried);
    return b ? b->name() : "none";
}

} // namespace

TEST_CASE("pool: drained and down backends are never picked", "[unit][pool]") {
    manual_clock clk;
    pool p(make(3), with_policy(routing_policy::round_robin), nullptr, false, 1, clk.fn());
    all_up(p);
    take_down(p, 0);
    REQUIRE(p.set_drained("b1", true));
    CHECK_FALSE(p.set_drained("nope", true));
    for (int i = 0; i < 30; ++i)
        CHECK(pick_name(p) == "b2");
    REQUIRE(p.set_drained("b1", false));
    std::map<std::string, int> counts;
    for (int i = 0; i < 30; ++i)
        ++counts[pick_name(p)];
    CHECK(counts["b0"] == 0);
    CHECK(counts["b1"] == 15);
    CHECK(counts["b2"] == 15);
}

TEST_CASE("pool: all down -> none; try_unhealthy_when_all_down -> least recently failed",
          "[unit][pool]") {
    manual_clock clk;
    auto routing = with_policy(routing_policy::failover);
    pool strict(make(3), routing, nullptr, false, 1, clk.fn());
    routing.try_unhealthy_when_all_down = true;
    pool lenient(make(3), routing, nullptr, false, 1, clk.fn());
    for (pool* p : {&strict, &lenient}) {
        all_up(*p);
        // Failures at different times: b1 failed first, then b2, then b0.
        for (std::size_t i : {1, 2, 0}) {
            clk.t += 1s;
            take_down(*p, i);
        }
    }
    CHECK(pick_name(strict) == "none");
    CHECK(pick_name(lenient) == "b1");
    // Its retry goes to the next least recently failed, never twice to the same one.
    const std::size_t tried1[] = {1};
    CHECK(pick_name(lenient, 1, tried1) == "b2");
    const std::size_t tried2[] = {1, 2};
    CHECK(pick_name(lenient, 2, tried2) == "b0");
    const std::size_t tried3[] = {1, 2, 0};
    CHECK(pick_name(lenient, 3, tried3) == "none");
    // Drained stays excluded even then.
    lenient.set_drained("b1", true);
    CHECK(pick_name(lenient) == "b2");
}

TEST_CASE("pool: retries skip the backends a request already tried", "[unit][pool]") {
    manual_clock clk;
    for (auto pol : {routing_policy::failover, routing_policy::round_robin, routing_policy::random,
                     routing_policy::weighted, routing_policy::least_requests}) {
        pool p(make(3), with_policy(pol), nullptr, false, 5, clk.fn());
        all_up(p);
        for (int r = 0; r < 50; ++r) {
            request_selector sel(p);
            std::set<std::string> seen;
            for (unsigned a = 0; a < 3; ++a) {
                const auto* b = sel.select(a);
                REQUIRE(b != nullptr);
                CHECK(seen.insert(b->name()).second);
            }
            CHECK(sel.select(3) == nullptr);
            CHECK(sel.select(0) != nullptr); // attempt 0 = a new request: starts over
        }
    }
}

TEST_CASE("pool: optimistic start, then the first check decides", "[unit][pool]") {
    manual_clock clk;
    pool p(make(2), with_policy(routing_policy::failover), nullptr, false, 1, clk.fn());
    // Nothing checked yet: serve from the preferred backend rather than answer 503.
    CHECK(pick_name(p) == "b0");
    p.record_check(0, false, 1ms, "connection refused");
    // b0 is known down, b1 still unchecked: b1 (still optimistic, no one is up).
    CHECK(pick_name(p) == "b1");
    p.record_check(1, true, 1ms, "status 200");
    CHECK(pick_name(p) == "b1");
    // b0 needs rise (2) successes now.
    p.record_check(0, true, 1ms, "status 200");
    CHECK(pick_name(p) == "b1");
    p.record_check(0, true, 1ms, "status 200");
    clk.t += 31s; // failback_stable_period (30 s default) after b0 came up
    CHECK(pick_name(p) == "b0");
}

TEST_CASE("pool: an unchecked backend is not used while another one is up", "[unit][pool]") {
    manual_clock clk;
    pool p(make(2), with_policy(routing_policy::round_robin), nullptr, false, 1, clk.fn());
    p.record_check(1, true, 1ms, "status 200");
    for (int i = 0; i < 10; ++i)
        CHECK(pick_name(p) == "b1");
}

TEST_CASE("pool: passive failures take a backend down, 4xx-like successes keep it up",
          "[unit][pool]") {
    manual_clock clk;
    pool p(make(2), with_policy(routing_policy::failover), nullptr, false, 1, clk.fn());
    all_up(p);
    const auto& b0 = *p.backends()[0];
    CHECK(p.is_failure_status(503));
    CHECK_FALSE(p.is_failure_status(404));
    CHECK_FALSE(p.is_failure_status(500));
    p.report_failure(b0, failure_kind::bad_status);
    p.report_success(b0); // e.g. a 404: the backend answered; resets the streak
    p.report_failure(b0, failure_kind::timeout);
    CHECK(pick_name(p) == "b0");
    p.report_failure(b0, failure_kind::connect_failed);
    CHECK(pick_name(p) == "b1");
}

TEST_CASE("pool: least_requests sees the in-flight guards", "[unit][pool]") {
    manual_clock clk;
    pool p(make(2), with_policy(routing_policy::least_requests), nullptr, false, 1, clk.fn());
    all_up(p);
    std::vector<in_flight_guard> busy;
    for (int i = 0; i < 5; ++i)
        busy.push_back(p.track(*p.backends()[0]));
    for (int i = 0; i < 20; ++i)
        CHECK(pick_name(p) == "b1");
    busy.clear();
    CHECK(p.state(0).in_flight() == 0);
}

TEST_CASE("pool: snapshot and manual failback", "[unit][pool]") {
    manual_clock clk;
    auto routing = with_policy(routing_policy::failover);
    routing.failback = failback_mode::manual;
    pool p(make(2), routing, nullptr, false, 1, clk.fn());
    all_up(p);
    CHECK(pick_name(p) == "b0");
    take_down(p, 0);
    CHECK(pick_name(p) == "b1");
    p.record_check(0, true, 3ms, "status 200");
    p.record_check(0, true, 3ms, "status 200");
    clk.t += 1h;
    CHECK(pick_name(p) == "b1");
    auto guard = p.track(*p.backends()[1]);
    const auto snap = p.snapshot();
    REQUIRE(snap.size() == 2);
    CHECK(snap[0].name == "b0");
    CHECK(snap[0].state.up);
    CHECK_FALSE(snap[0].active);
    CHECK(snap[0].state.consecutive_successes == 2);
    CHECK(snap[0].state.last_check_latency == 3ms);
    CHECK(snap[1].active);
    CHECK(snap[1].state.in_flight == 1);
    p.request_failback();
    CHECK(pick_name(p) == "b0");
    CHECK(p.snapshot()[0].active);
}
