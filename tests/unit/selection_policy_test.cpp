#include "s3ha/upstream/failover_policy.hpp"
#include "s3ha/upstream/selection_policy.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <vector>

using namespace s3ha;
using namespace s3ha::upstream;
using namespace std::chrono_literals;

namespace {

const steady_time t0{std::chrono::hours(1)};

std::vector<candidate> three_usable() {
    std::vector<candidate> c(3);
    for (std::size_t i = 0; i < c.size(); ++i) {
        c[i].priority = static_cast<unsigned>(i + 1);
        c[i].usable = true;
        c[i].up_since = t0 - 1h;
    }
    return c;
}

routing_config with_policy(routing_policy p) {
    routing_config r;
    r.policy = p;
    return r;
}

std::map<std::size_t, int> count_picks(selection_policy& p, const std::vector<candidate>& c,
                                       int n) {
    std::map<std::size_t, int> counts;
    for (int i = 0; i < n; ++i) {
        auto pick = p.pick(c, {t0, 0});
        REQUIRE(pick);
        REQUIRE(c[*pick].usable);
        ++counts[*pick];
    }
    return counts;
}

} // namespace

TEST_CASE("round_robin spreads 3000 picks evenly over 3 backends", "[unit][pool]") {
    auto p = make_selection_policy(with_policy(routing_policy::round_robin), 1);
    const auto counts = count_picks(*p, three_usable(), 3000);
    REQUIRE(counts.size() == 3);
    for (const auto& [i, n] : counts) {
        CHECK(n >= 900);
        CHECK(n <= 1100);
    }
}

TEST_CASE("round_robin skips unusable backends", "[unit][pool]") {
    auto p = make_selection_policy(with_policy(routing_policy::round_robin), 1);
    auto c = three_usable();
    c[1].usable = false;
    const auto counts = count_picks(*p, c, 100);
    CHECK(counts.count(1) == 0);
    CHECK(counts.at(0) == 50);
    CHECK(counts.at(2) == 50);
}

TEST_CASE("random covers every usable backend and only those", "[unit][pool]") {
    auto p = make_selection_policy(with_policy(routing_policy::random), 7);
    auto c = three_usable();
    c.push_back(c[0]);
    c[3].usable = false;
    const auto counts = count_picks(*p, c, 3000);
    CHECK(counts.size() == 3);
    CHECK(counts.count(3) == 0);
    for (const auto& [i, n] : counts)
        CHECK(n > 800); // ~1000 each
}

TEST_CASE("weighted (smooth WRR) follows the weights exactly and interleaves", "[unit][pool]") {
    auto p = make_selection_policy(with_policy(routing_policy::weighted), 1);
    auto c = three_usable();
    c[0].weight = 5;
    c[1].weight = 1;
    c[2].weight = 1;
    // One full cycle (sum of weights = 7) picks exactly by weight, and never 3 times in a row
    // to the heavy one (smoothness: a,a,b,a,c,a,a).
    std::vector<std::size_t> seq;
    for (int i = 0; i < 7; ++i)
        seq.push_back(*p->pick(c, {t0, 0}));
    CHECK(seq == std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0});
    const auto counts = count_picks(*p, c, 700);
    CHECK(counts.at(0) == 500);
    CHECK(counts.at(1) == 100);
    CHECK(counts.at(2) == 100);
}

TEST_CASE("least_requests prefers the idle backend", "[unit][pool]") {
    auto p = make_selection_policy(with_policy(routing_policy::least_requests), 3);
    auto c = three_usable();
    c[0].in_flight = 10;
    c[1].in_flight = 0;
    c[2].in_flight = 20;
    const auto counts = count_picks(*p, c, 3000);
    CHECK(counts.count(2) == 0); // the busiest never wins a comparison
    CHECK(counts.at(1) > 1800);  // in 2 of 3 sampled pairs: ~2000
    // Two backends: the idle one always.
    c[2].usable = false;
    const auto two = count_picks(*p, c, 100);
    CHECK(two.at(1) == 100);
}

TEST_CASE("every policy returns none when nothing is usable", "[unit][pool]") {
    for (auto pol : {routing_policy::failover, routing_policy::round_robin, routing_policy::random,
                     routing_policy::weighted, routing_policy::least_requests}) {
        auto p = make_selection_policy(with_policy(pol), 1);
        auto c = three_usable();
        for (auto& x : c)
            x.usable = false;
        CHECK_FALSE(p->pick(c, {t0, 0}));
        c[2].usable = true;
        for (int i = 0; i < 20; ++i)
            CHECK(p->pick(c, {t0, 0}) == std::optional<std::size_t>(2));
    }
}

TEST_CASE("failover: primary takes all, secondary takes over, auto failback after the stable "
          "period",
          "[unit][pool]") {
    failover_policy p(failback_mode::automatic, 30s);
    auto c = three_usable();
    for (int i = 0; i < 10; ++i)
        CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(0));

    c[0].usable = false; // primary down
    CHECK(p.pick(c, {t0 + 1s, 0}) == std::optional<std::size_t>(1));
    CHECK(p.active() == std::optional<std::size_t>(1));

    // Primary back at t0+10s: not before t0+40s.
    c[0].usable = true;
    c[0].up_since = t0 + 10s;
    CHECK(p.pick(c, {t0 + 11s, 0}) == std::optional<std::size_t>(1));
    CHECK(p.pick(c, {t0 + 39s, 0}) == std::optional<std::size_t>(1));
    CHECK(p.pick(c, {t0 + 40s, 0}) == std::optional<std::size_t>(0));
}

TEST_CASE("failover: a flapping primary does not make traffic oscillate", "[unit][pool]") {
    failover_policy p(failback_mode::automatic, 30s);
    auto c = three_usable();
    c[0].usable = false;
    CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(1));
    // The primary comes up for 20 s and goes down for 5 s, over and over (each up restarts
    // its up_since): traffic stays on the secondary the whole time.
    auto t = t0;
    for (int cycle = 0; cycle < 20; ++cycle) {
        c[0].usable = true;
        c[0].up_since = t;
        for (int s = 0; s < 20; ++s) {
            t += 1s;
            CHECK(p.pick(c, {t, 0}) == std::optional<std::size_t>(1));
        }
        c[0].usable = false;
        for (int s = 0; s < 5; ++s) {
            t += 1s;
            CHECK(p.pick(c, {t, 0}) == std::optional<std::size_t>(1));
        }
    }
}

TEST_CASE("failover: manual failback waits for the operator", "[unit][pool]") {
    failover_policy p(failback_mode::manual, 30s);
    auto c = three_usable();
    CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(0));
    c[0].usable = false;
    CHECK(p.pick(c, {t0 + 1s, 0}) == std::optional<std::size_t>(1));
    c[0].usable = true;
    c[0].up_since = t0 + 2s;
    CHECK(p.pick(c, {t0 + 1h, 0}) == std::optional<std::size_t>(1)); // stays, however long
    p.request_failback();
    CHECK(p.pick(c, {t0 + 1h, 0}) == std::optional<std::size_t>(0));
    CHECK(p.pick(c, {t0 + 2h, 0}) == std::optional<std::size_t>(0));
}

TEST_CASE("failover: a retry takes the next best without moving the active backend",
          "[unit][pool]") {
    failover_policy p(failback_mode::automatic, 30s);
    auto c = three_usable();
    CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(0));
    c[0].usable = false; // "already tried" for this request
    CHECK(p.pick(c, {t0, 1}) == std::optional<std::size_t>(1));
    c[1].usable = false;
    CHECK(p.pick(c, {t0, 2}) == std::optional<std::size_t>(2));
    CHECK(p.active() == std::optional<std::size_t>(0));
    c[0].usable = true; // the next request
    c[1].usable = true;
    CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(0));
}

TEST_CASE("failover: equal priorities go by configuration order", "[unit][pool]") {
    failover_policy p(failback_mode::automatic, 30s);
    auto c = three_usable();
    c[0].priority = 5;
    c[1].priority = 2;
    c[2].priority = 2;
    CHECK(p.pick(c, {t0, 0}) == std::optional<std::size_t>(1));
}
